"""Read typed settings from environment variables, failing loudly on values we cannot use."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from monitoring.probe.config import (
    FALSE_WORDS,
    TRUE_WORDS,
    check_file,
    check_host_name,
    parse_bool,
    parse_resolver,
    parse_seconds,
)


def _bad(name: str, value: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r}: {why}")


def _raw(name: str, env: Mapping[str, str] | None) -> str | None:
    value = (os.environ if env is None else env).get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "", *, env: Mapping[str, str] | None = None) -> str:
    value = _raw(name, env)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool, *, env: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, env)
    if value is None:
        return default
    try:
        return parse_bool(value)
    except ValueError as exc:
        raise _bad(name, value, str(exc)) from None


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, env)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, value, "expected a whole number") from None
    if minimum is not None and number < minimum:
        raise _bad(name, value, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise _bad(name, value, f"must be at most {maximum}")
    return number


def env_port(name: str, default: int, *, env: Mapping[str, str] | None = None) -> int:
    return env_int(name, default, minimum=1, maximum=65535, env=env)


def env_seconds(name: str, default: float, *, env: Mapping[str, str] | None = None) -> float:
    """A strictly positive, finite duration in seconds (a zero timeout would mean 'never wait')."""
    value = _raw(name, env)
    if value is None or value == "":
        return default
    try:
        return parse_seconds(value)
    except ValueError as exc:
        raise _bad(name, value, str(exc)) from None


def env_list(
    name: str, default: list[str] | None = None, *, env: Mapping[str, str] | None = None
) -> list[str]:
    value = _raw(name, env)
    if value is None or value == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_resolvers(name: str, *, env: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    value = _raw(name, env)
    if not value:
        return []
    resolvers = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            resolvers.append(parse_resolver(item))
        except ValueError as exc:
            raise _bad(name, value, f"resolver {item!r}: {exc}") from None
    return resolvers


def env_listen(
    name: str, default: str, *, env: Mapping[str, str] | None = None
) -> list[tuple[str, int]]:
    """Comma-separated `ip:port` or `[v6]:port` listening addresses; the port is required."""
    value = env_str(name, default, env=env)
    addresses = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):
            host, sep, rest = item[1:].partition("]")
            port_text = rest[1:] if sep and rest.startswith(":") else ""
        else:
            host, _, port_text = item.rpartition(":")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise _bad(
                name, value, f"{item!r} is not ip:port (an IP address, then a port)"
            ) from None
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _bad(name, value, f"{item!r} has no port between 1 and 65535")
        addresses.append((host, int(port_text)))
    if not addresses:
        raise _bad(name, value, "no address to listen on")
    return addresses


def env_file(name: str, *, env: Mapping[str, str] | None = None) -> str | None:
    """A path to an existing file, or None when unset."""
    value = _raw(name, env)
    if not value:
        return None
    try:
        return check_file(value)
    except ValueError as exc:
        raise _bad(name, value, str(exc)) from None


def env_hostname(name: str, default: str, *, env: Mapping[str, str] | None = None) -> str:
    value = _raw(name, env)
    if not value:
        return default
    try:
        return check_host_name(value)
    except ValueError as exc:
        raise _bad(name, value, str(exc)) from None


def env_database(
    name: str, default: str, *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    import dj_database_url

    url = env_str(name, default, env=env)
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:
        raise _bad(name, _redact(url), f"not a database URL ({exc})") from None
    if not config.get("ENGINE"):
        raise _bad(name, _redact(url), "unknown database scheme")
    return dict(config)


def parse_email_url(url: str) -> dict[str, Any]:
    """Turn smtp://user:pass@host:587/?tls=1 (or smtps://, console:, locmem:, dummy:) into settings.

    Raises ValueError with a reason; the caller names the variable.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    simple = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in simple:
        return {"EMAIL_BACKEND": simple[scheme]}
    if scheme not in ("smtp", "smtps"):
        raise ValueError("scheme must be smtp, smtps, console, locmem or dummy")
    if not parts.hostname:
        raise ValueError("no host name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("bad port") from None
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    flags = {}
    for key in ("tls", "ssl"):
        word = query.get(key, "").lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"{key}={word!r} is not a boolean")
        flags[key] = word in TRUE_WORDS
    use_ssl = scheme == "smtps" or flags["ssl"]
    if use_ssl and flags["tls"]:
        raise ValueError("choose tls (STARTTLS) or ssl (implicit TLS), not both")
    settings: dict[str, Any] = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": flags["tls"],
        "EMAIL_USE_SSL": use_ssl,
    }
    if "timeout" in query:
        try:
            settings["EMAIL_TIMEOUT"] = float(query["timeout"])
        except ValueError:
            raise ValueError("timeout is not a number") from None
    return settings


def env_email(*, debug: bool, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Email settings from EMAIL_URL, else the EMAIL_* variables, else console (DEBUG) or SMTP."""
    url = env_str("EMAIL_URL", env=env)
    if url:
        try:
            return parse_email_url(url)
        except ValueError as exc:
            raise _bad("EMAIL_URL", _redact(url), str(exc)) from None
    host = env_str("EMAIL_HOST", env=env)
    if not host and debug:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    use_ssl = env_bool("EMAIL_USE_SSL", False, env=env)
    use_tls = env_bool("EMAIL_USE_TLS", False, env=env)
    if use_ssl and use_tls:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both set; choose one")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": host or "localhost",
        "EMAIL_PORT": env_port("EMAIL_PORT", 465 if use_ssl else 25, env=env),
        "EMAIL_HOST_USER": env_str("EMAIL_HOST_USER", env=env),
        "EMAIL_HOST_PASSWORD": env_str("EMAIL_HOST_PASSWORD", env=env),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }


def _redact(url: str) -> str:
    """Hide a password before a URL goes into an error message or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
