"""Monitoring: probe results, their history, Celery tasks and the pages that read them."""
