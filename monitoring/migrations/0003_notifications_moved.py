"""The outbox and MX-set models now belong to monitoring.notifications (same tables)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_notifications"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="MxSetSeen"),
                migrations.DeleteModel(name="OutboxMessage"),
            ],
        ),
    ]
