"""`manage.py probe`: probe domains now and print the verdicts; never touches the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.probe import DomainResult, normalize_domain, probe_domains
from monitoring.probe.certs import load_trust_store
from monitoring.probe_config import probe_config


class Command(BaseCommand):
    help = "Probe the MX hosts of DOMAINs (STARTTLS, certificates, MTA-STS, DANE, TLS-RPT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domains", nargs="*", metavar="DOMAIN")
        parser.add_argument(
            "--file", type=Path, help="read domains from a file, one per line (# comments)"
        )
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object per domain per line"
        )

    def handle(self, *args: object, **options: object) -> None:
        raw: list[str] = list(options["domains"])  # type: ignore[arg-type]
        path = options.get("file")
        if path is not None:
            raw += _read_domain_file(path)  # type: ignore[arg-type]
        if not raw:
            raise CommandError("give at least one DOMAIN or --file PATH")
        bad = []
        for name in raw:
            try:
                normalize_domain(name)
            except ValueError as exc:
                bad.append(f"{name}: {exc}")
        if bad:
            raise CommandError("invalid domain names:\n  " + "\n  ".join(bad))
        try:
            config = probe_config()
            load_trust_store(config.ca_bundle)
        except (ValueError, OSError) as exc:
            raise CommandError(f"probe settings: {exc}") from None
        results = probe_domains(raw, config)
        if options["json"]:
            for result in results:
                self.stdout.write(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            for result in results:
                self.stdout.write(_human(result))


def _read_domain_file(path: Path) -> list[str]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def _human(result: DomainResult) -> str:
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
