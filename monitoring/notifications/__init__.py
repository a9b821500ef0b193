"""Notifications: the outbox, digests and alerts to IT contacts and staff, and unsubscribing."""
