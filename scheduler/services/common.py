"""Loading by id, the helper every use case shares (seats live in ``seats``), and
the page arithmetic of long lists the console shows a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
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


class Paged:
    """Where one page of a long list sits: the list sets ``count`` (all of them),
    ``page``, ``size`` and ``shown`` (this page's items)."""

    count: int
    page: int
    size: int

    @property
    def shown(self) -> Sequence:
        raise NotImplementedError

    @property
    def pages(self) -> int:
        return page_count(self.count, self.size)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.first + len(self.shown) - 1 if self.shown else 0


def page_count(count: int, size: int) -> int:
    """Pages of ``size`` that ``count`` items fill (one, even when there are none)."""
    return max(1, -(-count // size))


def page_within(page: int, count: int, size: int) -> int:
    """``page``, or the last page when it is past it (the first when below)."""
    return min(max(page, 1), page_count(count, size))


def page_of(items: Sequence[T], page: int, size: int) -> tuple[Sequence[T], int]:
    """The items on ``page`` (kept within the pages they fill) and that page."""
    page = page_within(page, len(items), size)
    return items[(page - 1) * size:page * size], page
