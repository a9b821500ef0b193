"""The web side's protections: client address, throttles, second factor, audit trail."""
