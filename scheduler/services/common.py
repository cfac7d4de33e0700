"""Loading by id, the helper every use case shares (seats live in ``seats``)."""

from __future__ import annotations

from typing import TypeVar

from scheduler.errors import NotFound
from scheduler.models import db

T = TypeVar("T")


def get(model: type[T], ident: int, what: str | None = None, field: str | None = None) -> T:
    """The row, or NotFound (404) naming ``field`` when the id came from a request body."""
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(f"{what or model.__name__} {ident} was not found", field=field)
    return row
