from django.db import migrations


def install(apps, schema_editor):
    from jiayuan.cases.services.catalogue import install_default_categories

    install_default_categories(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
