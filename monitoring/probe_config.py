"""The probe library's configuration from Django settings (read from the env, defaults there)."""

from __future__ import annotations

from django.conf import settings

from monitoring.probe import ProbeConfig, parse_resolvers


def probe_config(**overrides: object) -> ProbeConfig:
    resolvers = settings.SECMAIL_DNS_RESOLVERS
    if isinstance(resolvers, str):
        resolvers = parse_resolvers(resolvers)
    values: dict[str, object] = {
        "resolvers": tuple((str(ip), int(port)) for ip, port in resolvers or ()),
        "ca_bundle": settings.SECMAIL_CA_BUNDLE or None,
        "smtp_port": int(settings.SECMAIL_SMTP_PORT),
        "https_port": int(settings.SECMAIL_MTA_STS_PORT),
        "connect_timeout": float(settings.SECMAIL_CONNECT_TIMEOUT),
        "probe_timeout": float(settings.SECMAIL_PROBE_TIMEOUT),
        "allow_nonpublic": bool(settings.SECMAIL_ALLOW_NONPUBLIC),
    }
    ehlo_name = settings.SECMAIL_EHLO_NAME
    if ehlo_name:
        values["ehlo_name"] = ehlo_name
    values.update(overrides)
    return ProbeConfig(**values)  # type: ignore[arg-type]
