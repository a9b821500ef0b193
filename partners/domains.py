"""Mail domain names as the registry stores them; the rules live in the probe library."""

from __future__ import annotations

from monitoring.probe.names import InvalidDomain, display_domain, normalize_domain

__all__ = ["InvalidDomain", "display_domain", "normalize_domain"]
