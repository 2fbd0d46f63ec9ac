from django.db import migrations

from apps.core.models import CANARY_PLAINTEXT


def forwards(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    Canary = apps.get_model("core", "EncryptionCanary")
    if not Canary.objects.exists():
        Canary.objects.create(value=CANARY_PLAINTEXT)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
