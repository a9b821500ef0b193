"""Audit receivers: login success and failure (filled in with the audit trail)."""
