"""The read-only JSON API and the TLS policy feed for mail servers, with their tokens."""
