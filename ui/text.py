"""Untrusted text (file names, a model file's metadata) made safe to show in Markdown.

Streamlit renders the body of st.caption, st.error, st.success, ... as Markdown, so a file
name or a metadata value put there as it is could become a link, an image, a colour or a
formula. `plain()` backslash-escapes every ASCII punctuation character (CommonMark lets any
of them be escaped, and an escaped one is always literal text) and folds line breaks, so the
text shows exactly as written and can start no Markdown construct. Control characters and
the Unicode formatting characters (bidi overrides such as U+202E, zero-width ones) are
removed first (`visible`): a file name cannot reverse, hide or reorder the text around it.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def visible(value: object) -> str:
    """`value` as one line of visible text: whitespace runs (line breaks too) become one
    space; control (Cc), format (Cf: bidi controls, zero-width characters), surrogate,
    private-use and unassigned characters are removed."""
    text = re.sub(r"\s+", " ", str(value))
    return "".join(ch for ch in text if unicodedata.category(ch) not in _HIDDEN).strip()


_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn"}

# What the page says when MNIST's files are there but cannot be read. nn.mnist's own message
# (which files, which folders, which function to call) is for the server's log and the
# command line; a visitor is told no paths or names (issue 18).
MNIST_UNREADABLE = (
    "The MNIST files on this server cannot be read, so this needs the server's "
    "administrator. Drawing still works."
)


def plain(value: object, limit: int = 200) -> str:
    """`value` as literal text for a Markdown body: one line, at most `limit` characters."""
    text = visible(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", text)


_NUMBER_AND_UNIT = re.compile(r"(\d) (%|s\b)")


def unbroken(text: str) -> str:
    """Our own text with a number and its unit ("91 %", "12 s") joined by a no-break space,
    so that a narrow box never puts the unit at the start of the next line (seen in chromium:
    "About 91" / "% after the first epoch")."""
    return _NUMBER_AND_UNIT.sub("\\1\u00a0\\2", text)
