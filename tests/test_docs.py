"""The docs name only things that exist, so they cannot drift from the code.

Checked: README.md and every Markdown file in docs/. What they put in backticks is checked by
the rules below (docs/testing.md states them for writers); anything else in backticks is
prose. Each rule is a small function; a failure lists every offending doc and span.

- a path (contains "/" or ends in a file extension; not absolute, no "<", "*", "..") exists
  (but for artifacts/, which the tests write);
- a dotted name starting with "nn.", "runs." or "ui." is defined: its module's file exists and the
  source defines each further part (read, never imported: ui.drawing needs a running page);
- "`NAME` in `file.py`" means file.py defines NAME;
- an option "--name" (alone or followed by a metavar) is one of nn/train.py's parser; one
  with a dot is a Streamlit option; in a command running benchmarks/X.py, X.py defines it;
- "section.key" of a Streamlit config section is an option of the installed Streamlit;
- "DIGITLAB_..." is read somewhere in nn/, runs/ or ui/;
- a relative Markdown link points at an existing file (or one of PENDING).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Docs written on other branches, linked before they land; delete a name once its file exists.
PENDING: set[str] = set()
MADE_BY_TESTS = {"artifacts"}  # git-ignored folders the tests write (screenshots, logs)
STREAMLIT_SECTIONS = ("server", "client", "runner", "browser", "theme")
PYTHON = (3, 11)  # the oldest Python the pins run on: stated in the docs, checked below

SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
EXTENSION = re.compile(r"\.(py|md|toml|txt|in|conf|service|npz|png|json|ini|cfg|sh)$")


def spans(doc: Path) -> list[str]:
    """Backticked spans outside fenced code blocks (those are commands shown as a whole)."""
    text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)
    return SPAN.findall(text)


def fenced(doc: Path) -> list[str]:
    """The lines of the doc's fenced code blocks."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", doc.read_text(), flags=re.S | re.M)
    return [line for block in blocks for line in block.splitlines()]


# --- what exists ----------------------------------------------------------------------------


@cache
def defined_names(path: Path) -> dict[str, set[str]]:
    """Top-level names a module defines, and for each class the names its body defines."""
    tree = ast.parse(path.read_text())
    names: dict[str, set[str]] = {"": set()}

    def add(scope: str, node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[scope].add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[scope].add(name.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[scope].add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names[scope].update((a.asname or a.name).split(".")[0] for a in node.names)

    for node in tree.body:
        add("", node)
        if isinstance(node, ast.ClassDef):
            names[node.name] = set()
            for item in node.body:
                add(node.name, item)
    return names


def module_file(dotted: str) -> Path | None:
    path = REPO.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def dotted_name_exists(name: str) -> bool:
    """`nn.x`, `nn.x.NAME`, `nn.x.Class.method` (a trailing "()" allowed)."""
    parts = name.removesuffix("()").split(".")
    for cut in range(len(parts), 0, -1):  # the longest prefix that is a module
        source = module_file(".".join(parts[:cut]))
        if source is not None:
            break
    else:
        return False
    rest = parts[cut:]
    if not rest:
        return True
    names = defined_names(source)
    if rest[0] not in names[""]:
        return False
    return len(rest) == 1 or (len(rest) == 2 and rest[1] in names.get(rest[0], set()))


@cache
def cli_options() -> set[str]:
    from nn.train import parser

    return {option for action in parser()._actions for option in action.option_strings}


@cache
def streamlit_options() -> set[str]:
    from streamlit import config

    return set(config.get_config_options())


@cache
def code_text() -> str:
    return "\n".join(
        p.read_text() for d in ("nn", "runs", "ui") for p in sorted((REPO / d).glob("*.py"))
    )


# --- the rules ------------------------------------------------------------------------------


def is_path(span: str) -> bool:
    if " " in span or span.startswith(("/", "$", "-", "http")) or "://" in span:
        return False
    if any(mark in span for mark in ("<", "*", "..", "{", "=", "|")):
        return False
    return "/" in span or bool(EXTENSION.search(span) and not span.startswith("."))


def path_problems(doc: Path) -> list[str]:
    return [
        s
        for s in spans(doc)
        if is_path(s)
        and s.split("/")[0] not in MADE_BY_TESTS
        and not (REPO / s.rstrip("/")).exists()
    ]


def name_problems(doc: Path) -> list[str]:
    found = []
    for span in spans(doc):
        if re.fullmatch(r"(nn|runs|ui)(\.\w+)+(\(\))?", span) and not dotted_name_exists(span):
            found.append(span)
    text = doc.read_text()
    for name, file in re.findall(r"`(\w+)` in `([\w/.]+\.py)`", text):
        path = REPO / file
        if not path.is_file() or not any(name in v for v in defined_names(path).values()):
            found.append(f"{name} in {file}")
    return found


def option_problems(doc: Path) -> list[str]:
    found = []
    for span in spans(doc):
        m = re.fullmatch(r"(--[\w.-]+)( [A-Z|a-z_-]+)?", span)
        if m is None:
            continue
        option = m.group(1)
        known = streamlit_options() if "." in option else cli_options()
        if option.lstrip("-") not in known and option not in known:
            found.append(option)
    for line in [*fenced(doc), *spans(doc)]:
        script = re.search(r"benchmarks/(\w+\.py)", line)
        if script and (REPO / "benchmarks" / script.group(1)).is_file():
            source = (REPO / "benchmarks" / script.group(1)).read_text()
            after = line[script.end() :]
            found += [o for o in re.findall(r"--[\w-]+", after) if f'"{o}"' not in source]
        elif re.search(r"-m nn\.train\b", line):
            after = line.split("nn.train", 1)[1]
            found += [o for o in re.findall(r"--[\w-]+", after) if o not in cli_options()]
    return found


def config_problems(doc: Path) -> list[str]:
    found = []
    for span in spans(doc):
        m = re.fullmatch(r"(\w+)\.(\w+)", span)
        if m and m.group(1) in STREAMLIT_SECTIONS and span not in streamlit_options():
            found.append(span)
    return found


def variable_problems(doc: Path) -> list[str]:
    names = set(re.findall(r"\bDIGITLAB_[A-Z_]+\b", doc.read_text()))
    return sorted(n for n in names if f'"{n}"' not in code_text())


def link_problems(doc: Path) -> list[str]:
    found = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        pending = path.is_relative_to(REPO) and path.relative_to(REPO).as_posix() in PENDING
        if not path.exists() and not pending:
            found.append(target)
    return found


RULES = [
    path_problems,
    name_problems,
    option_problems,
    config_problems,
    variable_problems,
    link_problems,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_the_docs_name_only_what_exists(rule):
    problems = {doc.relative_to(REPO).as_posix(): rule(doc) for doc in DOCS}
    assert {doc: found for doc, found in problems.items() if found} == {}


# --- the rules catch what they are for ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("restyled (`CANVAS_TOOLBAR_STYLE` in `app.py`)", name_problems),  # issue 17's example
        ("see `nn/nothing.py`", path_problems),
        ("`nn.mnist.no_such_function`", name_problems),
        ("`ui.charts.show.extra.deep`", name_problems),
        ("`--no-such-option`", option_problems),
        ("`--server.noSuchOption`", option_problems),
        ("`server.noSuchOption`", config_problems),
        ("`DIGITLAB_NO_SUCH_LIMIT`", variable_problems),
        ("[gone](nowhere.md)", link_problems),
        ("```\npython benchmarks/bench_load.py --no-such-flag\n```", option_problems),
        ("```\npython -m nn.train --no-such-flag\n```", option_problems),
    ],
)
def test_a_false_claim_is_caught(text, rule, tmp_path):
    doc = tmp_path / "claim.md"
    doc.write_text(text + "\n")
    assert rule(doc) != []


def test_true_claims_pass(tmp_path):
    doc = tmp_path / "claim.md"
    doc.write_text(
        "`CANVAS_TOOLBAR_STYLE` in `ui/drawing.py`, `nn/mnist.py`, `nn.mnist.shared_mnist`, "
        "`runs.manager.RunManager.submit_teach`, `--seed`, `--fonts DIR`, `--server.port`, "
        "`runner.postScriptGC`, `DIGITLAB_MAX_RUNS`\n"
    )
    assert [rule(doc) for rule in RULES[:-1]] == [[]] * (len(RULES) - 1)


# --- one module map, the documented configuration, the Python version ------------------------


@pytest.mark.parametrize("package", ["nn", "ui"])
def test_the_package_docstring_is_the_module_map(package):
    doc = ast.get_docstring(ast.parse((REPO / package / "__init__.py").read_text())) or ""
    modules = sorted(p.stem for p in (REPO / package).glob("*.py") if p.stem != "__init__")
    assert [m for m in modules if not re.search(rf"\b{m}\b", doc)] == []


def test_every_config_key_and_limit_variable_is_documented():
    deploying = (REPO / "docs" / "deploying.md").read_text()
    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    keys = [f"{section}.{key}" for section, table in settings.items() for key in table]
    assert [k for k in keys if f"`{k}`" not in deploying] == []
    source = (REPO / "nn" / "settings.py").read_text()
    variables = re.findall(r'"(DIGITLAB_\w+)"', source)
    assert variables and [v for v in variables if f"`{v}`" not in deploying] == []


def test_the_python_version_is_stated_and_checked_the_same_everywhere():
    major, minor = PYTHON
    version = f"{major}.{minor}"
    assert sys.version_info >= PYTHON
    for doc in ("README.md", "docs/deploying.md"):
        assert f"Python {version} or later" in " ".join((REPO / doc).read_text().split()), doc
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["tool"]["ruff"]["target-version"] == f"py{major}{minor}"
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert f"--python-version {version}" in (REPO / ".ci" / "lock").read_text()
    assert f"sys.version_info < ({major}, {minor})" in (REPO / ".ci" / "run").read_text()
