import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Categories and routing rules say when they last changed: routing keeps them per
    process while no row is added, removed or saved."""

    dependencies = [
        ('cases', '0007_duplicate_search_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='category',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='routingrule',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
    ]
