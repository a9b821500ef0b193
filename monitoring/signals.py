"""Signals of the pipeline, so that rooms built on it (notifications) need no import back."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that stored a batch: cycle_id, domain_ids (those whose result is
# new). Receivers that act on it defer their work with transaction.on_commit.
batch_stored = Signal()
