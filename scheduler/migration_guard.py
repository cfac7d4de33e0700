"""Downgrades never drop data silently: a migration's ``downgrade()`` calls
``refuse_data_loss`` with what it drops, and it refuses while any of it holds data
unless run with ``flask --app wsgi db downgrade -x force`` (after ``flask backup``)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import context, op


class DataWouldBeLost(RuntimeError):
    pass


def refuse_data_loss(*, tables: Iterable[str] = (),
                     columns: Iterable[tuple[str, str]] = (), every_table: bool = False) -> None:
    if "force" in context.get_x_argument():
        return
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    tables = sorted(present - {"alembic_version"}) if every_table else list(tables)
    losing = []
    for table in tables:
        if table in present and bind.execute(sa.text(
                f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
            losing.append(table)
    for table, column in columns:
        if table in present and bind.execute(sa.text(
                f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 1')).first():
            losing.append(f"{table}.{column}")
    if losing:
        raise DataWouldBeLost(
            f"This downgrade would drop data in {', '.join(losing)}. Back up first "
            "(flask --app wsgi backup PATH), then run it with `db downgrade -x force`.")
