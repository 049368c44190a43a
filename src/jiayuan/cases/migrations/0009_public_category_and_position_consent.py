from django.db import migrations, models


def sensor_classes_internal(apps, schema_editor):
    """The sensors' own alarm classes (major class ``S``) stay off the public interface."""
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(code__startswith="S-").update(public=False)


class Migration(migrations.Migration):
    """Categories say whether the public Open311 interface lists them; a case says whether
    its reporter agreed that the exact position may be public."""

    dependencies = [
        ('cases', '0008_catalogue_updated_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='category',
            name='public',
            field=models.BooleanField(default=True, verbose_name='public'),
        ),
        migrations.AddField(
            model_name='case',
            name='exact_position_public',
            field=models.BooleanField(default=False,
                                      verbose_name='exact position may be public'),
        ),
        migrations.RunPython(sensor_classes_internal, migrations.RunPython.noop),
    ]
