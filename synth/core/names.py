"""Names that become path components (splits, tags, class names): checked where they enter."""
from __future__ import annotations

import re

from synth.errors import SynthError

MAX_NAME_LENGTH = 64
"""The longest split, tag or class name accepted; longer names are refused, not truncated."""

_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_NAME_WITH_SPACES = re.compile(r"[A-Za-z0-9_.\- ]+")


def check_name(value: str, what: str, *, allow_spaces: bool | None = None) -> str:
    """Return `value` if it is safe as one path component, else raise a SynthError naming `what`.

    Allowed: letters, digits, `_`, `-`, `.` (and single inner spaces for class names), at most
    MAX_NAME_LENGTH characters, not empty, no leading `.`, no `..`, no path separator.
    `allow_spaces` defaults to True when `what` names a class (e.g. "class", "class name").
    """
    if allow_spaces is None:
        allow_spaces = "class" in what.lower()
    allowed = ("letters, digits, '_', '-', '.'" + (" and spaces" if allow_spaces else "")
               + f"; at most {MAX_NAME_LENGTH} characters; not starting with '.'; no '..'")
    if not isinstance(value, str):
        raise SynthError(f"{value!r} is not a name (a string of {allowed})", field=what)
    if not value:
        raise SynthError(f"empty name; allowed: {allowed}", field=what)
    if len(value) > MAX_NAME_LENGTH:
        raise SynthError(f"{value[:MAX_NAME_LENGTH]!r}... is {len(value)} characters long; "
                         f"allowed: {allowed}", field=what)
    pattern = _NAME_WITH_SPACES if allow_spaces else _NAME
    if (not pattern.fullmatch(value) or value.startswith(".") or ".." in value
            or value != value.strip()):
        raise SynthError(f"{value!r} cannot be used as a name (it becomes a file or folder name); "
                         f"allowed: {allowed}", field=what)
    return value
