"""The panel "Teach it your handwriting": when the answer is wrong, the visitor clicks the
digit they meant; the page fine-tunes a copy of the network (nn.teach) on every drawing
taught in this tab, mixed with replayed MNIST digits, and offers the result in the picker as
"Taught: ...", where it answers and can be downloaded like any other network.

The fine-tune is training: it runs in a training worker (`RunManager.submit_teach`), under the
same slot limit and queue as visitors' training runs, never in the page's server process (a
warm spare worker takes it at once when a slot is free). The click waits up to `WAIT_SECONDS`
for it (the server thread only waits; the worker works); with no free slot by then the job is
withdrawn, the panel says so and the taught drawings stay listed. The message gives the time
the visitor waited, end to end.

`teach_ui(net, label, image)`: `net`/`label` the network that answers, `image` the current
(28, 28) drawing or None. The taught copy joins the picker through `ui.state.add_network`
(replacing the previous copy); this panel's keys are TabState's `taught`, `teach_*` and
`taught_label` (ui.state).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import streamlit as st

from nn.mnist import MnistError, find_mnist_dir
from nn.models import read
from nn.teach import MAX_TAUGHT, TeachError
from nn.verdict import CLOSE_CALL, judge
from runs.manager import QueueFull, RunManager, ServiceError

from .charts import pixelated
from .compat import reruns_only_fragments
from .state import (
    TEACH_DIGIT,
    add_network,
    networks,
    remove_network,
    selected,
    set_value,
    tab,
    untaught_key,
    value_of,
)
from .text import MNIST_UNREADABLE

THUMB_SCALE = 2  # 56 px thumbnails
WAIT_SECONDS = 10.0  # how long a click waits for a free training slot and the fine-tune


def teach_ui(net, label: str, image) -> None:
    state = tab()
    rerun, state.teach_rerun = state.teach_rerun, False
    if rerun and reruns_only_fragments():
        st.rerun()  # a teaching click inside the drawing's fragment: redraw the picker too
    box = st.container(key="teach")
    if image is not None:
        box.segmented_control(
            "Wrong answer? Click the digit you meant, and the network learns it.",
            [str(d) for d in range(10)],
            key=TEACH_DIGIT,
            on_change=_teach,
            args=(image,),
            help="Trains a copy of this network for a moment on your drawing (and on "
            "earlier ones you taught), mixed with MNIST digits so it does not forget "
            "them.",
        )
    if state.teach_error:
        box.warning(state.teach_error)
    result = state.teach_result
    if result:
        _result_ui(box, result, _doubt(net, label, image))
    if state.taught:
        _taught_ui(box)


def _doubt(net, label: str, image) -> str:
    """', with 0 close behind' when the taught copy answers the last taught drawing, still on
    the canvas, with a close call (the answer box then says '6 or 0?'), else ''."""
    state = tab()
    if image is None or not state.taught or label != state.taught_label:
        return ""
    if not np.array_equal(np.asarray(image), np.asarray(state.taught[-1][0])):
        return ""
    verdict = judge(image, read(net, image).output, state.drawn)  # the canvas's drawing
    if verdict.kind != CLOSE_CALL:
        return ""
    return f", with **{verdict.digits[1]}** close behind (the answer says {verdict.answer})"


def _result_ui(box, result: dict, doubt: str = "") -> None:
    """What the last lesson did: what the network that was answering read (the reading the
    page showed), what the taught copy reads now (and its doubt, `_doubt`), and whether the
    lesson took."""
    now, digit = result["answers"][-1], result.get("digit")
    before, after = result["accuracy_before"], result["accuracy_after"]
    change = 100 * (after - before)
    drawings = f"{result['count']} drawing{'s' if result['count'] > 1 else ''}"
    verdict = (
        f"the cost of learning {drawings}"
        if change < 0
        else "no cost: the MNIST digits mixed in taught it a little too"
    )
    shown = result.get("shown")
    if shown is not None:
        read = f"*{shown['label']}* was answering and read it as **{shown['answer']}**"
    else:
        read = f"*{result.get('base', 'the original')}* reads it as **{result['before'][-1]}**"
    accuracy = (
        f"On MNIST's 10,000 test digits: {100 * before:.2f} % → {100 * after:.2f} % "
        f"({change:+.2f} points), {verdict}. Took {result['seconds']:.2f} s."
    )
    replaced = result.get("replaced") or []
    if replaced:
        earlier = " and ".join(f"**{k}**" for k in replaced)
        accuracy = f"It replaces your lesson of this drawing as {earlier}. {accuracy}"
    if digit is None or now == digit:
        box.success(
            f"Taught: it now reads your last drawing as **{now}**{doubt} ({read}). {accuracy}",
            icon=":material/school:",
        )
    else:
        box.warning(
            f"The lesson did not take: the taught copy still reads your last drawing as "
            f"**{now}**, not **{digit}** ({read}). Teach it once more (each lesson trains "
            f"a little), or draw it more like MNIST's {digit}s. {accuracy}",
            icon=":material/school:",
        )


def _taught_ui(box) -> None:
    state = tab()
    box.caption(
        f"Drawings taught in this tab ({len(state.taught)} of at most {MAX_TAUGHT}), "
        f"on top of *{state.teach_base}*:"
    )
    row = box.container(horizontal=True, gap="small", key="taught_row")
    for i, (drawing, digit) in enumerate(state.taught):
        cell = row.container(width=64, gap=None, horizontal_alignment="center")
        cell.image(pixelated(drawing, THUMB_SCALE), width=56, caption=f"as {digit}")
        cell.button(
            "",
            key=untaught_key(i),
            icon=":material/close:",
            help="Forget this one",
            on_click=_forget,
            args=(i,),
        )


def _teach(image) -> None:
    state = tab()
    digit = value_of(TEACH_DIGIT)
    set_value(TEACH_DIGIT, None)  # one click, one lesson: the control springs back
    if digit is None or image is None:
        return
    answering = networks().get(selected())
    state.teach_shown = (
        None
        if answering is None
        else {"label": str(selected()), "answer": read(answering.net, image).answer}
    )  # the reading the page showed when the visitor clicked (for the message)
    if selected() != state.taught_label or state.teach_base not in networks():
        state.teach_base = selected()  # teaching another network: start from it
    # The same drawing taught as another digit is a correction: it replaces the earlier
    # lesson. Kept side by side, the two could not both take (one image, two answers), and
    # the message would blame the drawing. Taught again as the same digit, it adds weight.
    digit = int(digit)
    kept, replaced = [], set()
    for drawing, earlier in state.taught:
        if earlier != digit and np.array_equal(drawing, image):
            replaced.add(earlier)
        else:
            kept.append((drawing, earlier))
    state.taught = (kept + [(image.copy(), digit)])[-MAX_TAUGHT:]
    _retrain(sorted(replaced))


def _forget(index: int) -> None:
    state = tab()
    if 0 <= index < len(state.taught):
        state.taught = state.taught[:index] + state.taught[index + 1 :]
    state.teach_shown = None  # the last drawing's reading was not on show
    if state.taught:
        _retrain()
        return
    # nothing taught any more: back to the original
    remove_network(state.taught_label, then_select=state.teach_base)
    state.taught_label = state.teach_result = None
    state.teach_rerun = True


def _retrain(replaced: Sequence[int] = ()) -> None:
    """Fine-tune the base network on every drawing taught in this tab; `replaced`: the digits
    this lesson's drawing was taught as before (for the message)."""
    state = tab()
    state.teach_error = None
    if find_mnist_dir() is None:
        state.teach_error = (
            "Teaching needs MNIST's training digits to mix in (so the network "
            "does not forget them), and they are not on this server yet. The "
            "training section below can download them."
        )
        return
    base = networks()[str(state.teach_base)]
    base_net, base_meta = base.net, base.meta
    images = [drawing for drawing, _ in state.taught]
    digits = [digit for _, digit in state.taught]
    started = time.perf_counter()
    try:
        result = _fine_tune_in_a_worker(base_net, images, digits)
    except (QueueFull, ServiceError) as e:
        state.teach_error = f"Could not teach it right now: {e}."
        return
    except MnistError:  # its text names server folders: for the log, not the page
        logging.getLogger("digitlab.teach").exception("MNIST")
        state.teach_error = MNIST_UNREADABLE
        return
    except TeachError as e:
        state.teach_error = f"Could not teach it: {e}."
        return
    if result is None:
        state.teach_error = (
            "Every training slot is taken by other visitors' runs right now, "
            f"so it could not learn within {WAIT_SECONDS:.0f} s. Your taught "
            "drawings are kept: remove one or teach another to try again."
        )
        return
    meta = {key: value for key, value in base_meta.items() if key in ("settings", "seed")}
    meta.update(
        name="taught on the Digit Lab page",
        test_accuracy=result.accuracy_after,
        taught=len(images),
        taught_from=str(state.teach_base),
    )
    title = str(state.teach_base).split(":", 1)[0]
    count = f"{len(images)} drawing{'s' if len(images) > 1 else ''}"
    state.taught_label = add_network(
        f"Taught: {title} + {count}", result.net, meta, replacing=state.taught_label
    )
    state.teach_result = {
        "answers": result.answers,
        "before": result.answers_before,
        "accuracy_before": result.accuracy_before,
        "accuracy_after": result.accuracy_after,
        "count": len(images),
        "seconds": time.perf_counter() - started,  # end to end, not only the fine-tune
        "digit": digits[-1],
        "shown": state.teach_shown,
        "base": str(state.teach_base),
        "replaced": list(replaced),
    }
    state.teach_rerun = True


def _fine_tune_in_a_worker(net, images, digits):
    """The fine-tune's result (nn.teach.TeachResult) from a training worker, or None if it
    did not come within WAIT_SECONDS (the job is then withdrawn, its worker ended)."""
    handle = RunManager.shared().submit_teach(net, images, digits)
    result = handle.result(0.05)  # a free slot: no waiting message
    if result is None:
        waiting = (
            f"Waiting for a free training slot ({handle.queue_position()} in line)..."
            if handle.queue_position()
            else "Teaching..."
        )
        with st.spinner(waiting):
            result = handle.result(WAIT_SECONDS)
    if result is None:
        handle.stop("no free training slot in time")
    return result
