"""Free text from people: which characters may be stored. One rule for every way
in (the API, the console's forms, the client's forms) and for every way out (the
iCal writer strips what older data may still hold).

Refused everywhere: NUL and the other C0 controls except tab and line breaks,
DEL, the C1 controls, and the Unicode line and paragraph separators (U+2028,
U+2029). They cannot be seen or typed on purpose, PostgreSQL refuses NUL, and
calendar parsers reject whole feeds over them. Tabs and line breaks are allowed
only where text may run over several lines (notes, messages, reasons, addresses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_BREAKS = re.compile("[\t\r\n]")
# fields whose text may run over several lines
MULTILINE = frozenset({"notes", "note", "message", "reason", "cancel_reason", "description",
                       "detail", "address", "moved_up_reason", "removed_reason", "text",
                       "body"})
# never stored as text or never shown: a password may hold any character a person typed
UNCHECKED = frozenset({"password", "password_confirm", "new_password", "current_password",
                       "csrf_token"})
CONTROL = "Please remove the invisible control character (it cannot be stored or shown)"
ONE_LINE = "Please keep this on one line"


def pattern(*, multiline: bool) -> str:
    """The same rule as a JSON Schema (ECMA-262) pattern, for the API's documents."""
    ranges = r"\u0000-\u0008\u000b\u000c\u000e-\u001f" if multiline else r"\u0000-\u001f"
    return rf"^[^{ranges}\u007f-\u009f\u2028\u2029]*$"


def refusal(value: str, *, multiline: bool) -> str | None:
    """Why this text cannot be stored as it is, or None when it can."""
    if _FORBIDDEN.search(value):
        return CONTROL
    if not multiline and _BREAKS.search(value):
        return ONE_LINE
    return None


def _leaves(data: Any, name: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, str):
        yield name, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _leaves(value, str(key))
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _leaves(value, name)


def first_refusal(data: Any) -> tuple[str, str] | None:
    """(field, message) for the first string anywhere in ``data`` (JSON-like, or a
    form's fields) that cannot be stored; a field is named by its own key."""
    for name, value in _leaves(data):
        if name in UNCHECKED:
            continue
        message = refusal(value, multiline=name in MULTILINE)
        if message:
            return name or "body", message
    return None


def clean(value: str, *, multiline: bool = True) -> str:
    """The text without what may not be stored (for data that arrives where a
    person cannot be asked again, and for writing old data out)."""
    value = _FORBIDDEN.sub("", value)
    return value if multiline else _BREAKS.sub(" ", value)
