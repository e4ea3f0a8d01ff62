"""The tab's state has one owner, `ui/state.py`.

- Source checks (ast): no other page module touches `st.session_state`; every widget's and
  fragment's key comes from `ui.state` (no string written at the call); the picker's state
  is changed nowhere else; every key is declared there once.
- The page, run with every panel open, keeps no session key that `ui.state` does not declare.
- The picker's changes (`select_network`, `add_network`, `remove_network`) do what they say,
  run inside a Streamlit script (AppTest) as the page runs them.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.helpers import APP, STROKES, canvas_image
from ui import state

ROOT = Path(__file__).resolve().parent.parent
OWNER = ROOT / "ui" / "state.py"
PAGE_MODULES = sorted([*(ROOT / "ui").glob("*.py"), ROOT / "app.py"])
OTHERS = [path for path in PAGE_MODULES if path != OWNER]
READ_THROUGH_FUNCTIONS = {"networks", "selected"}  # networks(), selected(), current()
WRITTEN_BY_FUNCTIONS = {"network_note", "drawing", "drawn", "drawing_gen", "canvas_gen"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{name}:{getattr(node, 'lineno', '?')}"


# --- the source -------------------------------------------------------------------------------


def session_state_uses(path: Path) -> list[str]:
    """Where a module names Streamlit's session state (attribute, import or name)."""
    found = []
    for node in ast.walk(tree(path)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "session_state"
            or isinstance(node, ast.Name)
            and node.id == "session_state"
            or isinstance(node, ast.ImportFrom)
            and any(alias.name == "session_state" for alias in node.names)
        ):
            found.append(where(path, node))
    return found


def test_the_session_state_checker_finds_each_way_to_name_it(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import streamlit as st\n"
        "from streamlit import session_state\n"
        "st.session_state.x = 1\n"
        "y = session_state\n"
    )
    assert len(session_state_uses(sample)) == 3


def test_no_module_but_ui_state_touches_the_session_state():
    found = [place for path in OTHERS for place in session_state_uses(path)]
    assert found == [], "use ui.state (tab(), value_of, set_value, ...) instead: " + str(found)
    assert session_state_uses(OWNER)  # the owner does (the check looks in the right place)


def _enclosing(module: ast.Module) -> dict[ast.AST, list[ast.AST]]:
    """Each node's enclosing functions, innermost first."""
    found: dict[ast.AST, list[ast.AST]] = {}

    def visit(node: ast.AST, functions: list[ast.AST]) -> None:
        found[node] = functions
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            functions = [node, *functions]
        for child in ast.iter_child_nodes(node):
            visit(child, functions)

    visit(module, [])
    return found


def _from_state(module: ast.Module) -> set[str]:
    """The names a module imports from ui.state."""
    names = set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module in ("state", "ui.state"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _has_text(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
        for n in ast.walk(node)
    )


def _from_owner(value: ast.AST, imported: set[str], params: set[str]) -> bool:
    """A name imported from ui.state or a parameter (the caller's key), or a call of a
    function imported from ui.state."""
    if isinstance(value, ast.Name):
        return value.id in imported or value.id in params
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in imported
    return False


def key_problems(path: Path) -> list[str]:
    """Every `key=` outside ui.state must come from ui.state: a name imported from it, a
    call of one of its functions, or a parameter/local holding such a value. Containers'
    keys are CSS hooks, not session state, and may be written in place."""
    module = tree(path)
    imported = _from_state(module)
    enclosing = _enclosing(module)
    problems = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "container":
            continue
        if not any(k.arg in ("key", None) for k in node.keywords):
            continue  # no key, and no **owned(...): nothing to check
        functions = enclosing[node]
        params = {a.arg for f in functions for a in (*f.args.args, *f.args.kwonlyargs)}
        local = {
            target.id: assign.value
            for f in functions
            for assign in ast.walk(f)
            if isinstance(assign, ast.Assign)
            for target in assign.targets
            if isinstance(target, ast.Name)
        }
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg is None and isinstance(value, ast.Call) and value.args:
                if getattr(value.func, "id", "") != "owned":
                    continue
                value = value.args[0]  # **owned(T_ETA): a setting's widget, keyed by ui.state
            elif keyword.arg != "key":
                continue
            if isinstance(value, ast.Lambda):
                continue  # sorted(..., key=lambda ...): not a widget
            if isinstance(value, ast.Name) and value.id in local and value.id not in params:
                value = local[value.id]  # a local: where its value comes from
            if _has_text(value):
                problems.append(f"{where(path, node)}: a key written in place")
            elif not _from_owner(value, imported, params):
                problems.append(f"{where(path, node)}: key from {ast.unparse(value)}")
    return problems


def test_the_key_checker_finds_keys_written_in_place(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import streamlit as st\n"
        "from .state import PICKER, T_ETA, canvas_key, owned\n"
        "MINE = 'mine'\n"
        "def ui(n, key):\n"
        "    st.selectbox('a', [], key=PICKER)\n"  # fine
        "    st.button('b', key=canvas_key(n))\n"  # fine
        "    st.button('c', key=key)\n"  # fine: the caller's
        "    st.container(key='css_hook')\n"  # fine: not session state
        "    st.button('d', key='d')\n"
        "    st.button('e', key=f'e_{n}')\n"
        "    st.button('f', key=MINE)\n"
        "    local = 'g'\n"
        "    st.button('g', key=local)\n"
        "    st.slider('h', **owned(T_ETA))\n"  # fine: a setting's widget
        "    st.slider('i', **owned('t_eta'))\n"
    )
    assert [p.split(": ", 1)[1] for p in key_problems(sample)] == [
        "a key written in place",
        "a key written in place",
        "key from MINE",
        "a key written in place",
        "a key written in place",
    ]


def test_every_widget_and_fragment_key_comes_from_ui_state():
    problems = [problem for path in OTHERS for problem in key_problems(path)]
    assert problems == []


def shared_changes(path: Path) -> list[str]:
    """Where a module reads or writes `tab().networks` / `.selected`, or writes
    `tab().network_note` or the drawing's keys: the picker is read with networks() and
    selected() and changed with add_network/remove_network/select_network, the drawing with
    set_drawing/clear_drawing."""
    found = []
    for node in ast.walk(tree(path)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "tab"
            and (
                node.attr in READ_THROUGH_FUNCTIONS
                or (node.attr in WRITTEN_BY_FUNCTIONS and not isinstance(node.ctx, ast.Load))
            )
        ):
            found.append(where(path, node))
    return found


def test_the_picker_and_the_drawing_are_changed_only_by_ui_state():
    assert [place for path in OTHERS for place in shared_changes(path)] == []
    assert shared_changes(OWNER)  # the owner does (the check looks in the right place)


def test_every_key_is_declared_once():
    fields = [f.name for f in dataclasses.fields(state.TabState)]
    fragments = [state.DRAWING, state.REREAD, state.LIVE, state.NEURONS, state.LANDING]
    fragments.append(state.NEIGHBOURS)
    widgets = list(state.WIDGET_KEYS)
    # module-level string constants of ui/state.py: each value written once
    values = [
        node.value.value
        for node in tree(OWNER).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        if isinstance(node.value.value, str)
    ]
    assert len(values) == len(set(values)), sorted(v for v in values if values.count(v) > 1)
    # a key means one thing: TabState's keys and the widgets' differ, but for the picker,
    # whose widget's value is TabState.selected
    assert set(fields) & set(widgets) == {state.PICKER}
    assert len(fragments) == len(set(fragments))
    for key in (*fields, *widgets):
        assert not any(key.startswith(prefix) for prefix in state.KEY_FAMILIES), key
    made = (
        state.canvas_key(3),
        state.hidden_chart_key(0),
        state.run_download_key(7),
        state.untaught_key(1),
        state.hint_button_key("eta-large"),
    )
    assert all(state.declared(key) for key in made)
    assert not state.declared("stroke_follower") and not state.declared("canvas")


# --- the page ---------------------------------------------------------------------------------

SEVEN = canvas_image(STROKES[7])


def test_the_page_keeps_only_declared_keys(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = AppTest.from_file(APP, default_timeout=60)
    # The data's panel stays closed: it adds no key but its expander's, and reads 31 MB.
    for key in (state.NEURONS_OPEN, state.MISTAKES_OPEN, state.MAP_OPEN):
        app.session_state[key] = True
    canvas.image = SEVEN
    app.run()
    assert not app.exception, app.exception
    keys = set(app.session_state.keys())  # the page's keys and the keyed widgets'
    for key in (state.NEURON_PICK, state.MIX_TRUE, state.T_ETA, state.MAP_CHART, state.DRAWING):
        assert key in keys, key  # the panels were drawn, with a drawing
    assert [key for key in sorted(keys) if not state.declared(key)] == []


# --- the picker's changes ---------------------------------------------------------------------


def adding_past_the_limit() -> None:
    import streamlit as st

    from nn.network import Network
    from ui.bounds import MAX_TAB_NETWORKS
    from ui.state import add_network, init_state, networks, selected, shipped_networks

    init_state()
    shipped = list(shipped_networks())
    first = add_network("Mine", Network([784, 3, 10], seed=3), {})
    assert selected() == first and first == "Mine: [784, 3, 10]"
    again = add_network("Mine", Network([784, 3, 10], seed=4), {}, select=False)
    assert again == "Mine: [784, 3, 10] (2)" and selected() == first
    for n in range(MAX_TAB_NETWORKS):
        add_network(f"Net {n}", Network([784, 4 + n, 10], seed=n), {}, select=n == 0)
    own = [label for label in networks() if label not in shipped]
    st.session_state.result = {
        "own": own,
        "shipped_kept": all(label in networks() for label in shipped),
        "selected": selected(),
        "note": st.session_state.network_note,
    }


def test_adding_networks_drops_the_oldest_not_answering_with_a_note():
    app = AppTest.from_function(adding_past_the_limit, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    result = app.session_state.result
    from ui.bounds import MAX_TAB_NETWORKS

    assert len(result["own"]) == MAX_TAB_NETWORKS and result["shipped_kept"]
    # "Mine" and "Mine (2)" were the oldest; "Mine (2)" went first, then "Mine" (no longer
    # answering once "Net 0" did)
    assert result["selected"] == "Net 0: [784, 4, 10]"
    assert not any(label.startswith("Mine") for label in result["own"])
    assert "was taken off the list to make room" in result["note"]


def replacing_removing_selecting() -> None:
    import streamlit as st

    from nn.network import Network
    from ui.state import (
        add_network,
        init_state,
        networks,
        remove_network,
        select_network,
        selected,
        shipped_networks,
    )

    init_state()
    default, book = list(shipped_networks())
    seen = {}
    seen["select_unknown"] = (select_network("nothing"), selected())
    seen["select_book"] = (select_network(book), selected())
    taught = add_network("Taught", Network([784, 5, 10], seed=1), {})
    again = add_network("Taught", Network([784, 6, 10], seed=2), {}, replacing=taught)
    seen["replaced"] = (taught in networks(), again in networks(), selected() == again)
    seen["remove_shipped"] = remove_network(default)
    seen["remove_unknown"] = remove_network("nothing")
    seen["remove_back"] = (remove_network(again, then_select=book), selected(), again in networks())
    third = add_network("Operated", Network([784, 7, 10], seed=3), {})
    seen["remove_answering"] = (remove_network(third, then_select="gone"), selected())
    seen["labels"] = (default, book)
    st.session_state.seen = seen


def test_select_replace_and_remove_keep_the_picker_consistent():
    app = AppTest.from_function(replacing_removing_selecting, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    seen = app.session_state.seen
    default, book = seen["labels"]
    assert seen["select_unknown"] == (False, default)  # nothing changes
    assert seen["select_book"] == (True, book)
    assert seen["replaced"] == (False, True, True)  # the new version answers in its place
    assert seen["remove_shipped"] is False and seen["remove_unknown"] is False
    assert seen["remove_back"] == (True, book, False)  # back to the original
    # the answering one removed and the one to go back to gone: the first answers
    assert seen["remove_answering"] == (True, default)


def drawing_changes() -> None:
    import numpy as np
    import streamlit as st

    from ui.state import PICKER, clear_drawing, init_state, set_drawing, set_value, tab

    init_state()
    try:  # set_value is for the widgets' keys: the drawing's go through set_drawing
        set_value("drawing", None)
        st.session_state.refused = False
    except KeyError:
        st.session_state.refused = True
    set_value(PICKER, tab().selected)  # a widget's key is fine
    seen = [(tab().drawing_gen, tab().canvas_gen)]
    seven = np.zeros((28, 28), np.float32)
    seven[5:20, 12] = 1
    for drawing in (seven, seven.copy(), None, None, seven):
        set_drawing(drawing)
        seen.append((tab().drawing_gen, tab().canvas_gen))
    clear_drawing()
    seen.append((tab().drawing_gen, tab().canvas_gen, tab().drawing))
    st.session_state.seen = seen


def test_only_a_changed_drawing_counts_as_a_change_and_clearing_mounts_a_new_canvas():
    app = AppTest.from_function(drawing_changes, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    assert app.session_state.refused
    # the same drawing again (a rerun) and an empty canvas again change nothing
    assert app.session_state.seen == [(0, 0), (1, 0), (1, 0), (2, 0), (2, 0), (3, 0), (4, 1, None)]
