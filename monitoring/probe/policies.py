"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): records, the HTTPS policy fetch, and parsing."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from . import certs
from .config import ProbeConfig
from .http import HttpResponse, first_response
from .lookup import Outcome, Resolver, addresses, txt_strings
from .model import CertificateInfo, MtaStsResult, TlsRptResult

POLICY_PATH = "/.well-known/mta-sts.txt"
# RFC 8461 §3.3 lets senders cap the policy size; 64 KiB is the figure it suggests.
MAX_POLICY_BYTES = 64 * 1024
MAX_AGE_LIMIT = 31_557_600
STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
MODES = ("enforce", "testing", "none")


@dataclass(frozen=True, slots=True)
class Policy:
    mode: str | None
    max_age: int | None
    mx: tuple[str, ...]
    errors: tuple[str, ...]


def parse_sts_record(texts: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The policy id of the one v=STSv1 record, or an error code (RFC 8461 §3.1)."""
    records = [t for t in texts if t.startswith("v=STSv1")]
    if not records:
        return None, None
    if len(records) > 1:
        return None, "record-multiple"
    fields = _fields(records[0])
    if fields is None or fields[0] != ("v", "STSv1"):
        return None, "record-invalid"
    ids = [value for key, value in fields if key == "id"]
    if len(ids) != 1 or not STS_ID.match(ids[0]):
        return None, "record-invalid"
    return ids[0], None


def _fields(record: str) -> list[tuple[str, str]] | None:
    fields = []
    for part in record.split(";"):
        part = part.strip(" \t")
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key:
            return None
        fields.append((key.strip(), value.strip()))
    return fields


def parse_policy(body: str) -> Policy:
    """Parse a policy file: `key: value` lines, CRLF or LF (RFC 8461 §3.2)."""
    errors: list[str] = []
    values: dict[str, list[str]] = {}
    for line in body.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            errors.append("policy-syntax")
            continue
        values.setdefault(key.strip(), []).append(value.strip())
    if values.get("version") != ["STSv1"]:
        errors.append("policy-version")
    modes = values.get("mode", [])
    mode = modes[0] if len(modes) == 1 and modes[0] in MODES else None
    if mode is None:
        errors.append("policy-mode")
    ages = values.get("max_age", [])
    max_age = int(ages[0]) if len(ages) == 1 and ages[0].isdigit() else None
    if max_age is None or max_age > MAX_AGE_LIMIT:
        errors.append("policy-max-age")
    mx = tuple(p.lower().rstrip(".") for p in values.get("mx", []))
    if mode in ("enforce", "testing") and not mx:
        errors.append("policy-no-mx")
    if any(not _valid_pattern(p) for p in mx):
        errors.append("policy-mx-pattern")
    return Policy(mode, max_age, mx, tuple(dict.fromkeys(errors)))


def _valid_pattern(pattern: str) -> bool:
    body = pattern[2:] if pattern.startswith("*.") else pattern
    return bool(body) and "*" not in body and "." in body


def mx_matches_policy(host: str, patterns: tuple[str, ...]) -> bool:
    """RFC 8461 §4.1: an exact name, or `*.` standing for exactly one left-most label."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            first, _, rest = host.partition(".")
            if first and rest == pattern[2:]:
                return True
        elif pattern == host:
            return True
    return False


async def mta_sts(
    domain: str,
    mx_hosts: tuple[str, ...],
    resolver: Resolver,
    config: ProbeConfig,
    trust: certs.TrustStore,
    now: datetime,
    connections: asyncio.Semaphore,
) -> MtaStsResult:
    answer, texts = await txt_strings(resolver, f"_mta-sts.{domain}")
    if answer.outcome in (Outcome.TIMEOUT, Outcome.SERVFAIL):
        return MtaStsResult(mode=None, valid=False, errors=(f"record-{answer.outcome}",))
    record_id, record_error = parse_sts_record(texts)
    if record_error:
        return MtaStsResult(mode=None, valid=False, errors=(record_error,))
    if record_id is None:
        return MtaStsResult(mode=None, valid=None)

    policy_host = f"mta-sts.{domain}"
    async with connections:
        fetched = await fetch_policy(policy_host, resolver, config, trust, now)
    if fetched.error is not None:
        return MtaStsResult(
            mode=None,
            valid=False,
            errors=(fetched.error,),
            record_id=record_id,
            certificate=fetched.certificate,
            detail=fetched.detail,
        )
    policy = parse_policy(fetched.body or "")
    errors = list(policy.errors)
    if policy.mode in ("enforce", "testing"):
        unmatched = [h for h in mx_hosts if not mx_matches_policy(h, policy.mx)]
        if unmatched:
            errors.append("mx-mismatch")
    return MtaStsResult(
        mode=policy.mode,
        valid=not errors,
        errors=tuple(errors),
        record_id=record_id,
        max_age=policy.max_age,
        mx_patterns=policy.mx,
        certificate=fetched.certificate,
    )


@dataclass(frozen=True, slots=True)
class PolicyFetch:
    """The policy text, or an error code with the probe's own note on what happened."""

    body: str | None = None
    certificate: CertificateInfo | None = None
    error: str | None = None
    detail: str | None = None


async def fetch_policy(
    host: str,
    resolver: Resolver,
    config: ProbeConfig,
    trust: certs.TrustStore,
    now: datetime,
) -> PolicyFetch:
    """GET the policy over HTTPS from an address found through our resolver; no redirects.

    The policy host is named by whoever controls the domain: only public addresses are
    connected to (unless the configuration allows others), and every connection goes to the
    address that was checked.
    """
    outcome, ips = await addresses(resolver, host)
    if not ips:
        error = "policy-host-no-address" if outcome != Outcome.TIMEOUT else "dns-timeout"
        return PolicyFetch(error=error)
    allowed = [ip for ip in ips if config.may_connect(ip)]
    if not allowed:
        return PolicyFetch(error="non-public-address", detail=f"{ips[0]} is not a public address")
    response = await first_response(
        allowed,
        config.https_port,
        host,
        POLICY_PATH,
        tls=True,
        config=config,
        max_body=MAX_POLICY_BYTES,
        accept="text/plain",
    )
    if not isinstance(response, HttpResponse):
        return PolicyFetch(error="policy-fetch-failed", detail=response)
    analyzed = certs.analyze(response.chain_der, host, trust, now)
    certificate = analyzed[0] if analyzed else None
    if analyzed is None or not analyzed[1]:
        # RFC 8461 §3.3: the policy host must present a certificate valid for its name.
        return PolicyFetch(certificate=certificate, error="policy-certificate")
    if 300 <= response.status < 400:
        return PolicyFetch(certificate=certificate, error="policy-redirect")
    if response.status != 200:
        return PolicyFetch(
            certificate=certificate,
            error="policy-http-status",
            detail=f"HTTP {response.status}",
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "text/plain":
        return PolicyFetch(certificate=certificate, error="policy-content-type")
    return PolicyFetch(
        body=response.body.decode("utf-8", errors="replace"), certificate=certificate
    )


async def tls_rpt(domain: str, resolver: Resolver) -> TlsRptResult:
    _, texts = await txt_strings(resolver, f"_smtp._tls.{domain}")
    return parse_tls_rpt(texts)


def parse_tls_rpt(texts: tuple[str, ...]) -> TlsRptResult:
    """RFC 8460 §3: exactly one v=TLSRPTv1 record; present when it names a rua URI."""
    records = [t for t in texts if t.startswith("v=TLSRPTv1")]
    if len(records) != 1:
        return TlsRptResult(present=False)
    fields = _fields(records[0])
    if fields is None or fields[0] != ("v", "TLSRPTv1"):
        return TlsRptResult(present=False)
    rua: list[str] = []
    for key, value in fields:
        if key == "rua":
            rua += [uri.strip() for uri in value.split(",") if _report_uri(uri.strip())]
    return TlsRptResult(present=bool(rua), rua=tuple(rua))


def _report_uri(uri: str) -> bool:
    lowered = uri.lower()
    return (lowered.startswith("mailto:") and "@" in uri) or lowered.startswith("https://")
