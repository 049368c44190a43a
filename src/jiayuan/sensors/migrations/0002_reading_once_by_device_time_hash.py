"""Readings: unique on (device, at, h), h a 64-bit hash of the idempotency key, instead of a
unique text key beside a (device, at) index: one index fewer per stored reading
(docs/sensors-ingest.md, bench)."""

from django.db import migrations, models


def fill_hashes(apps, schema_editor):  # type: ignore[no-untyped-def]
    from jiayuan.sensors.messages import key_hash

    Reading = apps.get_model("sensors", "Reading")
    batch = []
    for pk, key in Reading.objects.filter(h__isnull=True).values_list("pk", "key").iterator(
            chunk_size=10_000):
        batch.append(Reading(pk=pk, h=key_hash(key)))
        if len(batch) >= 10_000:
            Reading.objects.bulk_update(batch, ["h"])
            batch = []
    if batch:
        Reading.objects.bulk_update(batch, ["h"])


class Migration(migrations.Migration):

    dependencies = [
        ("sensors", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reading",
            name="h",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reading",
            name="h",
            field=models.BigIntegerField(help_text="64-bit hash of key (messages.key_hash)"),
        ),
        migrations.RemoveIndex(
            model_name="reading",
            name="sensors_reading_dev_at",
        ),
        migrations.AlterField(
            model_name="reading",
            name="key",
            field=models.CharField(max_length=100),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.UniqueConstraint(fields=("device", "at", "h"),
                                               name="sensors_reading_once"),
        ),
    ]
