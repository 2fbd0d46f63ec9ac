from django.db import migrations


def forwards(apps, schema_editor):
    from apps.clients.plans import plans_sync

    plans_sync(apps.get_model("clients", "Plan"))


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
