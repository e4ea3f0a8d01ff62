"""Sharing a set-up by link: the page's URL carries the training settings (or the book's
experiment they reproduce) and the shipped network that answers.

    ?preset=2&net=book                         the book's 2nd experiment, the book's network
    ?hidden=60&eta=0.5&batch=20&epochs=5&images=10000&seed=7&init=scaled&cost=cross-entropy&l2=5

`restore_link()` reads the query once per tab, before the widgets exist, and applies every
value that is valid (through `ui.state`: the settings' widgets, `select_network`); anything
else (unknown digits, out-of-range numbers, hostile text) is ignored with a short notice,
never an error. `share_ui(...)` shows the link for the current set-up, ready to copy.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import streamlit as st

from nn.models import SHIPPED
from nn.settings import Limits, Settings, SettingsError

from .presets import BATCH_SIZES, ETA_STEPS, PRESETS, TRAIN_SIZES, matching_preset
from .state import (
    T_PRESET,
    apply_settings,
    select_network,
    set_value,
    shipped_networks,
    tab,
    widget_settings,
)

FALLBACK_URL = "http://localhost:8501/"
MAX_VALUE_CHARS = 40  # longer query values are not even parsed
FIELDS = {  # query name -> Settings field
    "hidden": "hidden",
    "eta": "eta",
    "batch": "batch_size",
    "epochs": "epochs",
    "images": "train_size",
    "seed": "seed",
    "init": "init",
    "cost": "cost",
    "l2": "l2",
}


def shipped_slugs(shipped_labels) -> dict[str, str]:
    """{"default": its picker label, "book": ...}: the shipped networks by file name."""
    return {model.path.stem: label for model, label in zip(SHIPPED, shipped_labels)}


def _number(text: str, kind):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    if kind is int:
        if not value.is_integer():
            raise ValueError(text)
        return int(value)
    return value


def _valid(settings: Settings, limits: Limits) -> bool:
    try:
        settings.check(limits)
    except (SettingsError, TypeError, ValueError):
        return False
    return True


def parse_link(
    query: dict, *, defaults: Settings, choices: dict, limits: Limits, shipped: dict[str, str]
) -> tuple[Settings | None, str | None, str | None, list[str]]:
    """(settings or None, preset name or None, network label or None, names ignored).

    `query` maps names to strings; `choices` the values the page's sliders offer for
    "eta", "batch" and "images" (a value between them cannot be shown, so it is refused).
    Pure: no Streamlit, so the rules are tested directly.
    """
    ignored: list[str] = []
    query = {str(k): str(v) for k, v in query.items()}
    for name, value in query.items():
        if len(value) > MAX_VALUE_CHARS and (name in FIELDS or name in ("preset", "net")):
            ignored.append(name)
    query = {k: v for k, v in query.items() if k not in ignored}

    label = None
    if "net" in query:
        label = shipped.get(query["net"].strip().lower())
        if label is None:
            ignored.append("net")

    settings, preset_name = None, None
    if "preset" in query:
        try:
            number = _number(query["preset"], int)
            if not 1 <= number <= len(PRESETS):
                raise ValueError(number)
            preset = PRESETS[number - 1]
            settings, preset_name = preset.settings.replace(seed=defaults.seed), preset.name
        except ValueError:
            ignored.append("preset")
    changes = {}  # field -> value, for the values that parse and are offered at all
    for name, field in FIELDS.items():
        if name not in query:
            continue
        text = query[name].strip()
        try:
            if field in ("init", "cost"):
                value = text
            else:
                value = _number(text, float if field in ("eta", "l2") else int)
                if name in choices and value not in choices[name]:
                    raise ValueError(text)
            changes[field] = value
        except ValueError:
            ignored.append(name)
    base = settings or defaults
    if changes and not _valid(base.replace(**changes), limits):
        # Something is out of range: drop each value that is wrong on its own, then, if
        # the rest still do not go together (say, batch larger than the images), all.
        for name, field in FIELDS.items():
            if field in changes and not _valid(base.replace(**{field: changes[field]}), limits):
                ignored.append(name)
                del changes[field]
        if changes and not _valid(base.replace(**changes), limits):
            ignored += [name for name, field in FIELDS.items() if field in changes]
            changes = {}
    if changes:
        settings, preset_name = base.replace(**changes), None  # they speak for themselves
    return settings, preset_name, label, ignored


def link_query(settings: Settings, label: str | None, shipped: dict[str, str]) -> dict:
    """The query that reproduces these settings (and this shipped network, if it is one)."""
    query = {}
    preset = matching_preset(settings)
    if preset is not None and (settings.epochs, settings.augment) == (
        preset.settings.epochs,
        preset.settings.augment,
    ):
        query["preset"] = str(PRESETS.index(preset) + 1)
        if settings.seed:
            query["seed"] = str(settings.seed)
    else:
        for name, field in FIELDS.items():
            query[name] = (
                f"{getattr(settings, field):g}"
                if field in ("eta", "l2")
                else str(getattr(settings, field))
            )
    slug = next((s for s, lab in shipped.items() if lab == label), None)
    if slug is not None:
        query["net"] = slug
    return query


def restore_link() -> None:
    """Once per tab: the preset, settings and shipped network a shared link carries."""
    apply_link(
        list(shipped_networks()),
        {"eta": ETA_STEPS, "batch": BATCH_SIZES, "images": TRAIN_SIZES},
    )


def apply_link(shipped_labels, choices: dict) -> None:
    """Once per tab: restore the set-up the page's URL carries (see the module docstring).

    `shipped_labels` are the shipped networks' picker labels in order, `choices` the
    sliders' values for "eta", "batch" and "images".
    """
    state = tab()
    if state.link_applied:
        return
    state.link_applied = True
    try:
        query = {name: st.query_params.get(name) for name in st.query_params}
    except Exception:  # noqa: BLE001 - a query Streamlit itself cannot read: nothing to apply
        return
    if not query:
        return
    try:
        limits = Limits.from_env()
    except SettingsError:
        limits = Limits()
    shipped = shipped_slugs(shipped_labels)
    settings, preset_name, label, ignored = parse_link(
        query, defaults=widget_settings(), choices=choices, limits=limits, shipped=shipped
    )
    if settings is not None:
        apply_settings(settings)
        preset = matching_preset(settings)
        if preset_name is not None:
            set_value(T_PRESET, preset_name)
        elif preset is not None:
            set_value(T_PRESET, preset.name)
    if label is not None:
        select_network(label)
    known = [name for name in ignored if name in FIELDS or name in ("preset", "net")]
    if known:
        state.link_notice = (
            "Part of the link was not understood and is ignored: "
            + ", ".join(sorted(set(known)))
            + "."
        )
        st.toast(state.link_notice, icon=":material/link_off:")
    elif settings is not None or label is not None:
        st.toast("Set up from the link: press **Train** to run it.", icon=":material/link:")


def share_ui(settings: Settings, label: str, shipped_labels, notice: str | None) -> None:
    """A "Share this set-up" popover with the link to copy; `notice` what part of the link
    that opened the page was ignored (or None)."""
    query = link_query(settings, label, shipped_slugs(shipped_labels))
    base = (st.context.url or FALLBACK_URL).split("?", 1)[0].split("#", 1)[0]
    if base.count("/") == 2:  # "http://host:port": the page itself is "/"
        base += "/"
    url = f"{base}?{urlencode(query)}"
    with st.popover("Share this set-up", icon=":material/link:"):
        st.caption(
            "Anyone opening this link gets these settings"
            + (" and this network answering" if "net" in query else "")
            + ", ready to press Train. The copy button shows when you point at it."
        )
        st.code(url, language=None, wrap_lines=True)
    if notice:
        st.caption(notice)
