"""The lock files pin every package with hashes, agree with each other and with the .in files
they are made from, and the environment the tests run in is the locked one."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.helpers import REPO

ENTRY = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(name: str) -> dict[str, tuple[str, str | None, int]]:
    """package -> (version, marker, number of hashes) of a lock file."""
    entries: dict[str, tuple[str, str | None, int]] = {}
    current = None
    for line in (REPO / name).read_text().splitlines():
        m = ENTRY.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            entries[current] = (m.group(2), m.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, marker, hashes = entries[current]
            entries[current] = (version, marker, hashes + 1)
    return entries


def pins(name: str) -> dict[str, str]:
    text = (REPO / name).read_text()
    return {
        canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)
    }


def test_every_locked_package_is_pinned_with_hashes():
    for name in ("requirements.txt", "requirements-dev.txt"):
        entries = locked(name)
        assert len(entries) > 30, name  # the direct dependencies and all they pull in
        assert [p for p, (_v, _m, hashes) in entries.items() if hashes == 0] == [], name


def test_the_locks_agree_with_each_other_and_with_their_sources():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert {p: e[0] for p, e in runtime.items()} == {p: dev[p][0] for p in runtime}
    for source, lock in (("requirements.in", runtime), ("requirements-dev.in", dev)):
        assert {p: v for p, v in pins(source).items() if lock[p][0] != v} == {}, source


def test_the_environment_is_the_locked_one():
    """What the tests run on is what the lock says (a package installed by hand, or an older
    venv, shows up here)."""
    wrong = {}
    for package, (version, marker, _hashes) in locked("requirements-dev.txt").items():
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed: str | None = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[package] = (installed, version)
    assert wrong == {}
