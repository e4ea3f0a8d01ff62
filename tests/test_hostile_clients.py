"""Hostile visitors of a real server copy, and an honest one beside them (issue 18).

One `streamlit run app.py` for the module (MNIST on it, the shipped .streamlit/config.toml,
the session TTL shortened to 3 s so that closed tabs end within the test). The visitors
speak Streamlit's websocket protocol with tests/stclient.py (the client bench_load.py
uses). Each test makes one kind of attack, then asserts that

- the hostile tab itself got messages, never Streamlit's exception box;
- a second, honest visitor still gets the right answer for each stroke it draws;
- the server's memory (RSS from /proc) stays within the stated budget (ui.bounds,
  docs/bounds.md) above what it held before the attack.

Deterministic inputs, every wait bounded (asyncio timeouts, tests/helpers.wait_until).
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from nn.modelfile import MAX_PARAMS, model_bytes
from nn.network import Network
from tests.helpers import (
    ARTIFACTS,
    STROKES,
    canvas_image,
    free_port,
    meta_file,
    page_server,
    run_coroutine,
    start_page,
    stop,
    wait_healthy,
    wait_until,
    zeros_declaring,
)
from tests.stclient import PageSession, drawing_value, http_request
from ui.bounds import (
    ANALYSE_MAX_PARAMS,
    COPY_NETWORK_BYTES,
    COPY_UPLOAD_BYTES,
    MAX_TAB_NETWORKS,
    MB,
    SESSION_UPLOAD_BYTES,
)

pytestmark = pytest.mark.slow

MAX_UPLOAD = 32 * MB  # .streamlit/config.toml's server.maxUploadSize: Streamlit refuses more
DRAWINGS = {d: drawing_value(canvas_image(STROKES[d])) for d in (0, 1, 7)}
SESSION_TTL = 3  # s (the shipped value is 30): closed tabs end within the test
LARGEST = model_bytes(Network([784, 2000, 10], seed=1))  # at the parameter cap, 6.4 MB
# What one visitor may make the server hold: its own networks and its stored uploads,
# plus 48 MB for its session, pages and allocator slack.
VISITOR_BUDGET = MAX_TAB_NETWORKS * 4 * MAX_PARAMS + SESSION_UPLOAD_BYTES + 48 * MB
COPY_BUDGET = COPY_NETWORK_BYTES + COPY_UPLOAD_BYTES + 64 * MB  # all visitors of a copy


@pytest.fixture(scope="module")
def server():
    with page_server(
        "hostile-clients",
        env={"MALLOC_MMAP_THRESHOLD_": str(1 << 20)},
        extra=("--server.disconnectedSessionTTL", str(SESSION_TTL)),
    ) as (url, proc):
        run(honest_visitor(url))  # warm: imports, MNIST's test set, first figures
        yield url, proc.pid


def run(coro, seconds: float = 240):
    return run_coroutine(coro, seconds)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def honest_visitor(url: str) -> None:
    """A visitor drawing 1, 7, 0: each must be answered, correctly."""
    honest = PageSession(url)
    try:
        await honest.open()
        for digit in (1, 7, 0):
            assert await honest.stroke(DRAWINGS[digit], timeout=60) == str(digit)
        assert not honest.exceptions, honest.exceptions
    finally:
        await honest.close()


def memory_back(url: str, pid: int, before: int, slack: int) -> bool:
    """Whether the server's RSS is within `slack` of `before`, after one more visitor came
    and went: on a copy in use visitors keep arriving, and Streamlit releases the last
    closed sessions only when it serves again (ui.compat.sweep_sessions)."""

    async def arrive() -> None:
        visitor = PageSession(url)
        try:
            await visitor.open()
        finally:
            await visitor.close()

    run(arrive(), 60)
    return rss(pid) - before <= slack


def picker_options(session: PageSession) -> list[str]:
    proto, _ = session.widget("selectbox", "Network")
    return list(proto.options)


def sidebar_notes(session: PageSession) -> list[str]:
    return [t for t in session.texts(("alert",)) if "cannot be used" in t or "Added" in t]


async def still_answers(session: PageSession) -> None:
    """The (hostile) tab still answers a stroke, from whichever network it uploaded last, and
    shows no exception: a digit, or one of the page's honest doubts ("4 or 9?", "?": a crafted
    network's outputs may all be low or close; nn.verdict)."""
    answer = await session.stroke(DRAWINGS[7], timeout=60)
    assert answer is not None and re.fullmatch(r"\d|\d or \d\?|\?", answer), answer
    assert not session.exceptions, session.exceptions


# --- crafted files at every limit ------------------------------------------------------------

CRAFTED = [  # (file name, contents, what the sidebar must say)
    ("zeros.npz", zeros_declaring([784, 2000, 2000, 2000, 2000, 10]), "at most 1,600,000"),
    ("nested.npz", meta_file("[" * 30_000 + "]" * 30_000), "nested more than"),
    ("digits.npz", meta_file('{"seed": ' + "9" * 5000 + "}"), "5000 digits"),
    ("l2.npz", meta_file('{"l2": ' + "9" * 400 + "}"), "400 digits"),
    ("notes.txt", b"just some text\n", "not a zip archive"),
    ("claims.npz", model_bytes(Network([784, 30, 10], seed=5), {"test_accuracy": 0.942}), "Added"),
    ("largest.npz", LARGEST, "too large to measure here"),
    ("evil\u202egpj.\x1b[31mnpz\x00.npz", model_bytes(Network([784, 20, 10], seed=2)), "Added"),
]


def test_crafted_files_get_messages_and_the_page_goes_on(server):
    url, pid = server

    async def attack() -> dict:
        hostile = PageSession(url)
        await hostile.open()
        before = rss(pid)
        notes = {}
        try:
            for name, data, _ in CRAFTED:
                assert await hostile.upload(name, data) == 204, name
                notes[name] = sidebar_notes(hostile)
            options = picker_options(hostile)
            await still_answers(hostile)
            await honest_visitor(url)
            grew = rss(pid) - before
        finally:
            await hostile.close()
        return {"notes": notes, "options": options, "grew": grew}

    seen = run(attack())
    for name, _, words in CRAFTED:
        notes = seen["notes"][name]
        assert len(notes) == 1, (name, notes)  # one message: this file's, the old one replaced
        assert words in notes[0].replace("\\", ""), (name, notes)
    options = seen["options"]
    # The file's claimed 94.2 % is not shown: its measured accuracy is (a random network's).
    claims = next(o for o in options if o.startswith("Uploaded claims.npz"))
    assert "94.2" not in claims and "% on test" in claims, options
    assert any(o.startswith("Uploaded largest.npz") and "too large" in o for o in options)
    for option in options:
        assert not any(ord(c) < 32 or c in "\u202e\u202d\u2066\u2067\u200f" for c in option)
    assert any("evilgpj.[31mnpz.npz" in o for o in options), options
    assert len(options) <= 2 + MAX_TAB_NETWORKS, options
    assert seen["grew"] <= VISITOR_BUDGET, f"{seen['grew'] / MB:.0f} MB"


def test_a_network_at_the_analysis_limit_is_measured(server):
    url, _ = server
    hidden = (ANALYSE_MAX_PARAMS - 10) // 795  # [784, h, 10] has 795 h + 10 parameters
    data = model_bytes(Network([784, hidden, 10], seed=3), {"test_accuracy": 0.5})

    async def attack():
        hostile = PageSession(url)
        try:
            await hostile.open()
            await hostile.upload("edge.npz", data)
            return picker_options(hostile)
        finally:
            await hostile.close()

    options = run(attack())
    label = next(o for o in options if o.startswith("Uploaded edge.npz"))
    assert "% on test" in label and "50.0 %" not in label, label


# --- floods ----------------------------------------------------------------------------------


def test_upload_floods_stay_within_the_budget(server):
    url, pid = server
    junk = np.random.default_rng(0).bytes(15 * MB)

    async def attack() -> tuple[int, list, list]:
        hostile = PageSession(url)
        await hostile.open()
        before = rss(pid)
        try:
            statuses = [await hostile.put_file(f"junk{i}.bin", junk) for i in range(12)]
            # a session that does not exist, and a file over the upload size
            hostile.session_id, real = "0" * 36, hostile.session_id
            statuses.append(await hostile.put_file("x.bin", b"x"))
            hostile.session_id = real
            try:
                statuses.append(await hostile.put_file("big.bin", b"\0" * (MAX_UPLOAD + 1)))
            except ConnectionError:  # refused before the body was read: also a refusal
                statuses.append(413)
            for i in range(8):  # the largest network, uploaded again and again
                await hostile.upload(f"largest{i}.npz", LARGEST)
            options = picker_options(hostile)
            grew = rss(pid) - before
            await still_answers(hostile)
            await honest_visitor(url)
        finally:
            await hostile.close()
        return grew, statuses, options

    grew, statuses, options = run(attack(), 400)
    assert statuses[:12] == [204] * 12 and all(s >= 400 for s in statuses[12:]), statuses
    assert len(options) <= 2 + MAX_TAB_NETWORKS, options
    assert grew <= VISITOR_BUDGET, f"{grew / MB:.0f} MB"


def test_many_hostile_tabs_stay_within_the_copy_budget_and_memory_comes_back(server):
    url, pid = server
    before = rss(pid)

    async def attack() -> int:
        tabs = [PageSession(url, index=i) for i in range(6)]
        try:
            for tab in tabs:
                await tab.open()
            for round_ in range(MAX_TAB_NETWORKS):
                for tab in tabs:
                    await tab.upload(f"largest-{round_}.npz", LARGEST)
            peak = rss(pid)
            await honest_visitor(url)
            return peak
        finally:
            for tab in tabs:
                await tab.close()

    peak = run(attack(), 600)
    assert peak - before <= COPY_BUDGET, f"{(peak - before) / MB:.0f} MB"
    # Closed: the sessions end after the TTL, the sweeper shuts them down and collects.
    wait_until(
        lambda: memory_back(url, pid, before, 50 * MB),
        SESSION_TTL + 90,
        f"memory back within 50 MB of {before / MB:.0f} MB (now {rss(pid) / MB:.0f} MB)",
        every=1,
    )


# --- clear_cache -----------------------------------------------------------------------------


def test_clear_cache_neither_freezes_nor_leaks_a_closed_tab(server):
    url, pid = server
    before = rss(pid)

    async def attack() -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        hostile = PageSession(url)
        await hostile.open()
        try:
            for i in range(MAX_TAB_NETWORKS):
                await hostile.upload(f"largest-{i}.npz", LARGEST)
            msg = BackMsg()
            msg.clear_cache = True
            await hostile.send(msg)
            await hostile.rerun_and_wait(60)  # the next run (freeze_heap ran here, before)
            await honest_visitor(url)  # a new session's first run after the clear_cache
            await still_answers(hostile)
        finally:
            await hostile.close()

    run(attack())
    wait_until(
        lambda: memory_back(url, pid, before, 20 * MB),
        SESSION_TTL + 90,
        f"a closed tab's networks freed (now {(rss(pid) - before) / MB:.0f} MB above before)",
        every=1,
    )


# --- widget values ---------------------------------------------------------------------------

BAD_VALUES = [  # (WidgetState field, value) sent for every stateful widget at once
    ("double_value", math.nan),
    ("double_value", math.inf),
    ("int_value", 2**63 - 1),
    ("int_value", -(2**63)),
    ("string_value", "\u202e<script>x</script>" * 50),
    ("bool_value", True),
    ("double_array_value", [math.nan, -1e308]),
    ("string_array_value", ["not an option"]),
    ("int_array_value", [10**9, -1]),
    ("json_value", '{"drawing": {"data": "data:image/png;base64,AAAA"}}'),
    ("json_value", "[" * 10_000),
]


def test_wrong_typed_and_out_of_range_widget_values_leave_the_tab_working(server):
    url, _ = server

    async def attack() -> list[str]:
        hostile = PageSession(url)
        await hostile.open()
        failed = []
        try:
            widgets = [
                (proto.id, fid)
                for kind, proto, fid, _ in hostile.elements.values()
                if kind not in ("button", "download_button") and getattr(proto, "id", "")
            ]
            assert len(widgets) >= 8, widgets
            for i, (wid, fid) in enumerate(widgets):  # each widget alone: a wrong value
                field, value = BAD_VALUES[i % len(BAD_VALUES)]
                await hostile.rerun_and_wait(60, extra={wid: (field, value)}, fragment_id=fid or "")
                if hostile.exceptions:
                    failed.append(f"{wid[-20:]} {field}: {hostile.exceptions[-1][:80]}")
                    hostile.exceptions.clear()
            for field, value in BAD_VALUES:  # every widget at once, each kind of value
                await hostile.rerun_and_wait(60, extra={w: (field, value) for w, _ in widgets})
                if hostile.exceptions:
                    failed.append(f"{field}={str(value)[:20]}: {hostile.exceptions[-1][:80]}")
                    hostile.exceptions.clear()
            hostile.held.clear()  # an honest browser state again: every widget's own value
            await hostile.rerun_and_wait(60)
            await still_answers(hostile)
            await honest_visitor(url)
        finally:
            await hostile.close()
        return failed

    assert run(attack(), 600) == []


# --- query links -----------------------------------------------------------------------------

QUERIES = [
    "?preset=999999999999999999999&net=..%2F..%2Fetc%2Fpasswd",
    "?hidden=nan&eta=inf&batch=-1&epochs=1e309&images=0x10&seed=-5&l2=NaN",
    "?init=%E2%80%AEscaled&cost=%00&net=%0Adefault",
    "?" + "&".join(f"p{i}={'x' * 100}" for i in range(300)),
    "?hidden=" + "9" * 5000,
    "?preset=%3Cscript%3Ealert(1)%3C%2Fscript%3E&net=book&net=default",
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_hostile_query_links_give_a_working_page(server, query):
    url, _ = server

    async def visit() -> None:
        hostile = PageSession(url)
        try:
            await hostile.open(query)
            await still_answers(hostile)
        finally:
            await hostile.close()
        await honest_visitor(url)

    run(visit())


# --- what strangers are told -----------------------------------------------------------------


@pytest.mark.parametrize("files", ["none", "damaged"])
def test_the_page_names_no_server_paths_or_internal_functions(tmp_path, files):
    """Without MNIST, or with four damaged files (a second server whose MNIST_DIR says so),
    the page's messages about it name no folder and no function."""
    from nn.mnist import FILES

    folder = tmp_path / "mnist-here"
    folder.mkdir()
    if files == "damaged":
        for name in FILES:
            (folder / name).write_bytes(b"not the published file")
    port = free_port()
    log_path = ARTIFACTS / f"hostile-clients-mnist-{files}.log"
    with open(log_path, "wb") as log:
        proc = start_page(port, log, env={"MNIST_DIR": str(folder)})
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, log_path)

            async def look() -> list[str]:
                visitor = PageSession(url)
                try:
                    await visitor.open()
                    await visitor.upload("mine.npz", model_bytes(Network([784, 5, 10], seed=0)))
                    return visitor.texts(("alert", "markdown", "caption")) + picker_options(visitor)
                finally:
                    await visitor.close()

            texts = run(look())
        finally:
            stop(proc)
    page = "\n".join(texts)
    assert "MNIST" in page and "test accuracy not measured" in page, page
    for secret in (str(tmp_path), "/work", "/opt", "nn.mnist", "load_mnist", "download_mnist"):
        assert secret not in page, secret  # the page speaks about MNIST without paths or names
    assert "MNIST_DIR" not in page and ".gz" not in page


def test_direct_upload_to_another_session_is_refused(server):
    url, _ = server

    async def attack() -> int:
        victim, hostile = PageSession(url), PageSession(url)
        try:
            await victim.open()
            await hostile.open()
            status, _, _ = await http_request(
                hostile.host,
                hostile.port,
                "PUT",
                f"/_stcore/upload_file/{victim.session_id}/x",
                "",  # no XSRF cookie: not the victim's browser
                headers={"Content-Type": "multipart/form-data; boundary=b"},
                body=b"--b--\r\n",
            )
            return status
        finally:
            await victim.close()
            await hostile.close()

    assert run(attack()) in (400, 403)


def test_a_drawing_decoding_to_a_huge_image_and_a_huge_message_are_refused(server):
    """A "stroke" whose PNG is 6,000 x 6,000 (100 KB sent, 144 MB once decoded) reads as no
    drawing; a 20 MB websocket message closes that connection only."""
    import base64

    from PIL import Image

    url, pid = server
    buf = io.BytesIO()
    Image.new("RGBA", (6000, 6000), (0, 0, 0, 255)).save(buf, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    bomb = json.dumps({"drawing": {"raw": {}, "data": data}})
    assert len(bomb) < 2 * MB

    async def attack() -> tuple[int, bool]:
        hostile = PageSession(url)
        await hostile.open()
        before = rss(pid)
        try:
            answer = await hostile.stroke(bomb, timeout=10)
            assert answer is None and not hostile.exceptions, (answer, hostile.exceptions)
            assert await hostile.wait_for(lambda: hostile.shows("Draw a digit"), 30)
            grew = rss(pid) - before
            await still_answers(hostile)
            big = PageSession(url)
            await big.open()
            try:
                await big.ws.send(b"\0" * (20 * MB))
                closed = await big.wait_for(lambda: big.ws.close_code is not None, 30)
            except (ConnectionClosed, ConnectionError):
                closed = True  # the server closed it while it arrived
            await big.close()
            await honest_visitor(url)
        finally:
            await hostile.close()
        return grew, closed

    grew, closed = run(attack())
    assert grew <= 32 * MB, f"{grew / MB:.0f} MB"
    assert closed
