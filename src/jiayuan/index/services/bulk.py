"""Many rows in at once: COPY on PostgreSQL (Django's bulk_create binds every value in Python,
which costs seconds for tens of thousands of rows with JSON), bulk_create elsewhere."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert_rows(model: type[models.Model], fields: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in ``fields`` order; JSON fields as Python objects)."""
    if not rows:
        return
    meta = model._meta
    fobjs = [meta.get_field(f) for f in fields]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**{f.attname: v for f, v in zip(fobjs, r, strict=True)}) for r in rows],
            batch_size=2000)
        return
    is_json = [isinstance(f, models.JSONField) for f in fobjs]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fobjs)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(tuple(
                json.dumps(v, ensure_ascii=False, allow_nan=False) if j and v is not None else v
                for v, j in zip(r, is_json, strict=True)))
