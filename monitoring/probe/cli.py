"""The probe's command line, shared by `python -m monitoring.probe` and `manage.py probe`.

Without Django: the configuration comes from the same SECMAIL_* variables the product reads
(`config_from_env`); `manage.py probe` passes its settings-made configuration instead.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from .certs import load_trust_store
from .config import (
    ProbeConfig,
    check_file,
    check_host_name,
    parse_bool,
    parse_resolvers,
    parse_seconds,
)
from .engine import probe_domains
from .model import DomainResult
from .names import normalize_domain

T = TypeVar("T")


class UsageError(Exception):
    """Bad input from the person running the probe: said plainly, no traceback."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domains", nargs="*", metavar="DOMAIN")
    parser.add_argument(
        "--file", type=Path, help="read domains from a file, one per line (# comments); - is stdin"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per domain per line"
    )


def domains_to_probe(names: Sequence[str], path: Path | None) -> list[str]:
    """The command-line names plus the file's, checked before anything is probed."""
    raw = list(names)
    if path is not None:
        raw += read_domain_file(path)
    if not raw:
        raise UsageError("give at least one DOMAIN or --file PATH")
    bad = []
    for name in raw:
        try:
            normalize_domain(name)
        except ValueError as exc:
            bad.append(f"{name}: {exc}")
    if bad:
        raise UsageError("invalid domain names:\n  " + "\n  ".join(bad))
    return raw


def read_domain_file(path: Path) -> list[str]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def run(
    names: Sequence[str],
    config: ProbeConfig,
    *,
    as_json: bool,
    write: Callable[[str], object],
) -> None:
    """Probe and print: one JSON object per line, or the readable table."""
    try:
        load_trust_store(config.ca_bundle)
    except (ValueError, OSError) as exc:
        raise UsageError(f"probe settings: {exc}") from None
    for result in probe_domains(names, config):
        write(json.dumps(result.to_json(), ensure_ascii=False) if as_json else human(result))


def config_from_env(env: Mapping[str, str] | None = None, **overrides: object) -> ProbeConfig:
    """A ProbeConfig from the SECMAIL_* variables, with the product's defaults and checks."""
    env = os.environ if env is None else env

    def raw(name: str) -> str:
        return env.get(name, "").strip()

    def fail(name: str, why: str) -> UsageError:
        return UsageError(f"{name}={raw(name)!r}: {why}")

    def port(name: str, default: int) -> int:
        text = raw(name)
        if not text:
            return default
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise fail(name, "expected a port number (1-65535)")
        return int(text)

    def checked(name: str, check: Callable[[str], T], value: str) -> T:
        try:
            return check(value)
        except ValueError as exc:
            raise fail(name, str(exc)) from None

    def seconds(name: str, default: float) -> float:
        text = raw(name)
        return checked(name, parse_seconds, text) if text else default

    resolvers = checked("SECMAIL_DNS_RESOLVERS", parse_resolvers, raw("SECMAIL_DNS_RESOLVERS"))
    bundle = raw("SECMAIL_CA_BUNDLE") or None
    if bundle is not None:
        checked("SECMAIL_CA_BUNDLE", check_file, bundle)
    ehlo = checked(
        "SECMAIL_EHLO_NAME", check_host_name, raw("SECMAIL_EHLO_NAME") or socket.getfqdn()
    )
    values: dict[str, object] = {
        "resolvers": resolvers,
        "ca_bundle": bundle,
        "smtp_port": port("SECMAIL_SMTP_PORT", 25),
        "https_port": port("SECMAIL_MTA_STS_PORT", 443),
        "ehlo_name": ehlo,
        "connect_timeout": seconds("SECMAIL_CONNECT_TIMEOUT", 10),
        "probe_timeout": seconds("SECMAIL_PROBE_TIMEOUT", 30),
        "allow_nonpublic": checked(
            "SECMAIL_ALLOW_NONPUBLIC", parse_bool, raw("SECMAIL_ALLOW_NONPUBLIC")
        ),
    }
    values.update(overrides)
    return ProbeConfig(**values)  # type: ignore[arg-type]


def human(result: DomainResult) -> str:
    lines = [f"{result.domain}  {result.level}"]
    if result.error:
        lines[0] += f"  ({result.error})"
    if result.warnings:
        lines.append(f"  warnings: {', '.join(result.warnings)}")
    for mx in result.mx:
        label = "implicit MX" if mx.implicit else f"MX {mx.preference}"
        lines.append(f"  {label} {mx.host}")
        for address in mx.addresses:
            facts = [address.ip or "-"]
            if address.tls_version:
                facts.append(f"{address.tls_version} {address.cipher}")
            elif address.starttls:
                facts.append("STARTTLS offered")
            if address.error:
                facts.append(f"error={address.error}")
            if address.detail:
                facts.append(f"({address.detail})")
            cert = address.certificate
            if cert is not None:
                verdict = ",".join(cert.errors) or "valid"
                facts.append(f"cert {cert.key} {cert.days_left}d {verdict}")
            lines.append("    " + "  ".join(facts))
    sts = result.mta_sts
    if sts.mode is not None or sts.valid is not None:
        state = "valid" if sts.valid else "invalid " + ",".join(sts.errors)
        lines.append(f"  MTA-STS {sts.mode or '-'} {state}")
    if result.dane.tlsa:
        lines.append(f"  DANE dnssec={result.dane.dnssec} valid={result.dane.valid}")
    if result.tls_rpt.present:
        lines.append(f"  TLS-RPT {', '.join(result.tls_rpt.rua)}")
    return "\n".join(lines)


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """`python -m monitoring.probe`: 0 whatever the levels, 2 on bad usage or settings."""
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.probe",
        description="Probe the MX hosts of DOMAINs (STARTTLS, certificates, MTA-STS, DANE, "
        "TLS-RPT) with the SECMAIL_* settings of the environment; no database, no Django.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    out = stdout or sys.stdout
    try:
        names = domains_to_probe(args.domains, args.file)
        config = config_from_env(env)
        run(names, config, as_json=args.json, write=lambda line: print(line, file=out))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # ProbeConfig's own checks
        print(f"error: probe settings: {exc}", file=sys.stderr)
        return 2
    return 0
