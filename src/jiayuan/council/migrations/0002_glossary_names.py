"""The glossary's names: 资源清单 ``ResourceOffer`` and 自治金 ``SelfGovernanceGrant``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("council", "0001_initial")]

    operations = [
        migrations.RenameModel("Resource", "ResourceOffer"),
        migrations.RenameModel("Grant", "SelfGovernanceGrant"),
    ]
