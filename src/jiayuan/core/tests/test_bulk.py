"""insert_all: many new rows at once (COPY on PostgreSQL), prepared as bulk_create prepares them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from jiayuan.core.bulk import insert_all
from jiayuan.registry.models import Department


def _ids(n: int) -> list[int]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence('registry_department', 'id')) "
                        "FROM generate_series(1, %s)", [n])
            return [r[0] for r in cur.fetchall()]
    top = max(Department.objects.values_list("id", flat=True), default=0)
    return list(range(top + 1, top + n + 1))


def test_rows_are_stored_as_given_with_their_automatic_times_and_count_as_saved(tiny):
    depts = [Department(pk=pk, code=f"CM{pk}", name=f"第{i}城管中队\t“引号”\\",
                        kind="city_management", district=tiny.district)
             for i, pk in enumerate(_ids(3))]
    insert_all(depts)
    stored = {d.pk: d for d in Department.objects.filter(pk__in=[d.pk for d in depts])}
    assert [stored[d.pk].name for d in depts] == [d.name for d in depts]
    assert all(stored[d.pk].created_at is not None and stored[d.pk].updated_at is not None
               for d in depts)
    assert all(not d._state.adding for d in depts)
    depts[0].name = "改名"
    depts[0].save()  # an UPDATE now, not a second INSERT
    assert Department.objects.get(pk=depts[0].pk).name == "改名"


def test_a_conflict_raises_django_integrity_error_and_stores_nothing(tiny):
    first, second = _ids(2)
    insert_all([Department(pk=first, code="DUP", name="甲", kind="city_management",
                           district=tiny.district)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_all([Department(pk=second, code="DUP", name="乙", kind="city_management",
                               district=tiny.district)])
    assert list(Department.objects.filter(code="DUP").values_list("name", flat=True)) == ["甲"]


def test_rows_without_their_keys_are_refused():
    with pytest.raises(ValueError, match="primary key"):
        insert_all([Department(code="X", name="x", kind="city_management")])
