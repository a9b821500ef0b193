"""The probe library's configuration, read from Django settings (themselves read from the env)."""

from __future__ import annotations

from django.conf import settings

from monitoring.probe import ProbeConfig, parse_resolvers


def probe_config(**overrides: object) -> ProbeConfig:
    resolvers = getattr(settings, "SECMAIL_DNS_RESOLVERS", ())
    if isinstance(resolvers, str):
        resolvers = parse_resolvers(resolvers)
    values: dict[str, object] = {
        "resolvers": tuple((str(ip), int(port)) for ip, port in resolvers or ()),
        "ca_bundle": getattr(settings, "SECMAIL_CA_BUNDLE", None) or None,
        "smtp_port": int(getattr(settings, "SECMAIL_SMTP_PORT", 25)),
        "https_port": int(getattr(settings, "SECMAIL_MTA_STS_PORT", 443)),
        "connect_timeout": float(getattr(settings, "SECMAIL_CONNECT_TIMEOUT", 10)),
        "probe_timeout": float(getattr(settings, "SECMAIL_PROBE_TIMEOUT", 30)),
        "allow_nonpublic": bool(getattr(settings, "SECMAIL_ALLOW_NONPUBLIC", False)),
    }
    ehlo_name = getattr(settings, "SECMAIL_EHLO_NAME", None)
    if ehlo_name:
        values["ehlo_name"] = ehlo_name
    values.update(overrides)
    return ProbeConfig(**values)  # type: ignore[arg-type]
