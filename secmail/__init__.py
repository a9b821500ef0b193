"""secmail: which organizations of an industry can exchange email over TLS."""

from __future__ import annotations

# Imported here so that @shared_task uses this app as soon as Django starts.
from secmail.celery import app as celery_app

__all__ = ["celery_app"]
