"""The outbox and MX-set models move here from the monitoring app, keeping their tables."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("monitoring", "0002_notifications"),
        ("partners", "0002_contact_digest_always"),
    ]

    # The tables were created by monitoring.0002_notifications; only Django's idea of which
    # app owns them changes, so existing databases upgrade without touching a row.
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="MxSetSeen",
                    fields=[
                        (
                            "domain",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="partners.maildomain",
                            ),
                        ),
                        ("hosts", models.JSONField(default=list)),
                        ("version", models.PositiveIntegerField(default=0)),
                        ("updated", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"db_table": "monitoring_mxsetseen"},
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("dedupe_key", models.CharField(max_length=255, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("digest", "Digest"),
                                    ("alert", "Alert"),
                                    ("staff-digest", "Staff digest"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("to", models.EmailField(max_length=254)),
                        ("subject", models.CharField(max_length=255)),
                        ("body_text", models.TextField()),
                        ("body_html", models.TextField()),
                        ("headers", models.JSONField(blank=True, default=dict)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                ],
                                default="queued",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        (
                            "next_attempt_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("created", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "contact",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="partners.contact",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_outboxmessage",
                        "ordering": ["-created"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("state", "queued")),
                                fields=["next_attempt_at"],
                                name="outbox_due",
                            ),
                            models.Index(
                                fields=["contact", "kind", "created"], name="outbox_contact_kind"
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
