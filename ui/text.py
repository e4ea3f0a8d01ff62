"""Untrusted text (file names, a model file's metadata) made safe to show in Markdown.

Streamlit renders the body of st.caption, st.error, st.success, ... as Markdown, so a file
name or a metadata value put there as it is could become a link, an image, a colour or a
formula. `plain()` backslash-escapes every ASCII punctuation character (CommonMark lets any
of them be escaped, and an escaped one is always literal text) and folds line breaks, so the
text shows exactly as written and can start no Markdown construct.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def plain(value: object, limit: int = 200) -> str:
    """`value` as literal text for a Markdown body: one line, at most `limit` characters."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", text)
