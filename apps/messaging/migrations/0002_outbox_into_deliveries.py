"""Outbox rows become integrations.Delivery rows (same channel, address, text, status, provider, times)."""

from django.db import migrations


def copy_outbox(apps, schema_editor):
    OutboxMessage = apps.get_model("messaging", "OutboxMessage")
    Delivery = apps.get_model("integrations", "Delivery")
    Delivery.objects.bulk_create([
        Delivery(channel=row.channel, to=row.to, subject=row.subject, body=row.body,
                 conversation_id=row.conversation_id, purpose="agent", provider=row.provider, status=row.status,
                 attempts=1 if row.status != "queued" else 0, last_error=row.error, created=row.created,
                 sent_at=row.sent_at)
        for row in OutboxMessage.objects.all().iterator()
    ])


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0001_initial"),
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(name="OutboxMessage"),
    ]
