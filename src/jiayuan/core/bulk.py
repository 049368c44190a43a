"""Insert many new rows of a model at once, fast where the database allows.

``insert_all`` writes unsaved instances whose primary keys are already set (drawn from the
table's sequence, say) in one ``COPY`` on PostgreSQL, and through ``bulk_create`` elsewhere.
It exists because Django's ``bulk_create`` on PostgreSQL sends each column as an array that
psycopg's client-side binding quotes value by value in Python: for a batch of cases and their
events that was a fifth of intake's CPU. ``COPY`` hands the values to psycopg's C dumpers.

The rows are prepared as ``bulk_create`` prepares them: each field's ``pre_save`` (so
``auto_now`` and ``auto_now_add`` are set) and ``get_db_prep_save``; afterwards the instances
count as saved.

``copy_rows`` is the same ``COPY`` for plain rows of values (no instances, no preparation, the
primary key from the table's default): what the case history's writer
(``cases.events.record_many``) hands it for a batch intake or an SLA sweep.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def draw_ids(model: type[Model], n: int) -> list[int]:
    """``n`` new primary keys of ``model``'s table, drawn from its sequence in one query
    (PostgreSQL only: ids known before the rows are written, for ``insert_all``)."""
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                    "FROM generate_series(1, %s)", [model._meta.db_table, n])
        return [pk for (pk,) in cur.fetchall()]


def insert_all(objs: Sequence[Model], *, batch_size: int = 500) -> None:
    """Insert ``objs`` (all of one model, primary keys set, not yet saved)."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    if any(getattr(o, meta.pk.attname) is None for o in objs):
        raise ValueError("insert_all needs every primary key set")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return
    fields = [f for f in meta.concrete_fields if not f.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # Django's wrapper turns psycopg's errors into its own (IntegrityError, …) for callers.
    with connection.cursor() as cur, connection.wrap_database_errors:
        raw: Any = cur.cursor  # psycopg's cursor under Django's wrapper
        with raw.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as cp:
            for obj in objs:
                obj._prepare_related_fields_for_save(operation_name="insert_all")
                cp.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection)
                              for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def copy_rows(model: type[Model], columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    """Insert plain rows of ``model`` (values in ``columns`` order; the primary key, left
    out, comes from the table's default). On PostgreSQL one ``COPY``: no model instances,
    no per-field preparation, values handed to psycopg's C dumpers (a JSON column's values
    are dumped here). Elsewhere ``bulk_create`` of instances built from the rows."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    if connection.vendor != "postgresql":
        names = [f.attname for f in fields]  # type: ignore[union-attr]
        model._default_manager.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=500)
        return
    quote = connection.ops.quote_name
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    names = ", ".join(quote(f.column) for f in fields)  # type: ignore[union-attr]
    with connection.cursor() as cur, connection.wrap_database_errors:
        raw: Any = cur.cursor
        with raw.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as cp:
            if not json_at:
                for row in rows:
                    cp.write_row(row)
                return
            for row in rows:
                values = list(row)
                for i in json_at:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
                cp.write_row(values)
