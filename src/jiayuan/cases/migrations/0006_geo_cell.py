"""Case.geo_cell: the 0.01° square of the case's point, indexed with reported_at for the
duplicate search at intake; existing cases are filled in from their lng/lat."""

import math

from django.db import migrations, models

CELL = 0.01  # cases.models.GEO_CELL_DEG at the time of this migration


def fill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    if schema_editor.connection.vendor == "postgresql":
        # One statement; PostgreSQL's floor of a double is the same IEEE value as math.floor.
        schema_editor.execute(
            "UPDATE cases_case SET geo_cell = floor(lat / %s)::int * 100000 "
            "+ floor(lng / %s)::int WHERE lat IS NOT NULL AND lng IS NOT NULL", [CELL, CELL])
        return
    rows = Case.objects.exclude(lat=None).exclude(lng=None).values_list("pk", "lng", "lat")
    batch = []
    for pk, lng, lat in rows.iterator(chunk_size=5000):
        batch.append(Case(pk=pk, geo_cell=math.floor(lat / CELL) * 100_000
                          + math.floor(lng / CELL)))
        if len(batch) >= 5000:
            Case.objects.bulk_update(batch, ["geo_cell"])
            batch = []
    if batch:
        Case.objects.bulk_update(batch, ["geo_cell"])


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_measures_rollup'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='geo_cell',
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['geo_cell', 'reported_at'], name='case_geo_cell_idx'),
        ),
    ]
