"""Whole numbers from outside must fit the columns they go to: every integer column
here is a 32-bit INTEGER, so any number beyond that range is refused with a message
naming its field (422) before it can reach the database as an error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
MESSAGE = "This number is too large"


def _numbers(data: Any, name: str = "") -> Iterator[tuple[str, int]]:
    if isinstance(data, bool):
        return
    if isinstance(data, int):
        yield name, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _numbers(value, str(key))
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _numbers(value, name)


def first_out_of_range(data: Any) -> str | None:
    """The field of the first whole number in ``data`` no column could hold."""
    for name, value in _numbers(data):
        if not INT_MIN <= value <= INT_MAX:
            return name or "body"
    return None


def whole_numbers(args: Mapping[str, Any]) -> dict[str, int]:
    """The whole numbers written in a query string (``?page=12``), to check them too."""
    out = {}
    for key in args:
        for value in (args.getlist(key) if hasattr(args, "getlist") else [args[key]]):
            text = str(value).strip()
            if text.lstrip("+-").isdigit() and text.isascii():
                out[key] = int(text)
                if not INT_MIN <= out[key] <= INT_MAX:
                    break
    return out
