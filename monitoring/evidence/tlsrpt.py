"""SMTP TLS reports (RFC 8460): bounded decoding, strict validation, plain frozen facts.

Plain Python (no Django), so that every channel (mail, HTTPS POST, file import) goes through
exactly the same checks. Anything wrong rejects the whole report with a `ReportRejected`
whose message is the reason a sender or an operator reads.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("schema") / "tlsrpt.schema.json"
# A day's report from the largest sender about one organization is a few kilobytes; 5 MiB of
# JSON is generous and still cheap to hold, parse and validate.
MAX_JSON_BYTES = 5 * 1024 * 1024
# Compressed input never needs to be larger than what it decompresses to, give or take.
MAX_COMPRESSED_BYTES = MAX_JSON_BYTES
# Reports are dated by their senders; one from the future would stay "recent" forever.
MAX_CLOCK_SKEW = timedelta(days=2)
MAX_MIME_PARTS = 50
# Rows one report may add, whatever its shape.
MAX_FAILURE_DETAILS = 10000
CHUNK = 64 * 1024

GZIP = "gzip"
JSON = "json"
CONTENT_TYPES = {"application/tlsrpt+gzip": GZIP, "application/tlsrpt+json": JSON}


class ReportRejected(ValueError):
    """The whole report is refused; str(exc) says why in one line."""


@dataclass(frozen=True, slots=True)
class Failure:
    result_type: str
    count: int
    sending_mta_ip: str | None = None
    receiving_mx_hostname: str = ""
    receiving_mx_helo: str = ""
    receiving_ip: str | None = None
    failure_reason_code: str = ""
    additional_information: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    policy_type: str
    policy_domain: str
    policy_string: tuple[str, ...]
    mx_host: tuple[str, ...]
    successful: int
    failed: int
    failures: tuple[Failure, ...]


@dataclass(frozen=True, slots=True)
class Report:
    organization_name: str
    contact_info: str
    report_id: str
    start: datetime
    end: datetime
    policies: tuple[Policy, ...]


def payload_kind(content_type: str) -> str | None:
    """GZIP or JSON for the two RFC 8460 media types (parameters ignored), else None."""
    media = content_type.split(";", 1)[0].strip().lower()
    return CONTENT_TYPES.get(media)


def sniff_kind(head: bytes) -> str:
    """For files, which carry no media type: gzip's magic number, else JSON."""
    return GZIP if head[:2] == b"\x1f\x8b" else JSON


def read_payload(chunks: Iterable[bytes], kind: str) -> bytes:
    """The report's JSON bytes, never holding more than the caps allow.

    Decompression is incremental with an output cap, so a decompression bomb is refused
    after MAX_JSON_BYTES of output whatever its claimed size.
    """
    if kind == JSON:
        return _collect(chunks, MAX_JSON_BYTES, "the report is over 5 MiB of JSON")
    return _gunzip(chunks)


def _collect(chunks: Iterable[bytes], cap: int, too_big: str) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) > cap:
            raise ReportRejected(too_big)
    return bytes(out)


def _gunzip(chunks: Iterable[bytes]) -> bytes:
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    compressed = 0
    for chunk in chunks:
        compressed += len(chunk)
        if compressed > MAX_COMPRESSED_BYTES:
            raise ReportRejected("the compressed report is over 5 MiB")
        if decoder.eof:
            if chunk:
                raise ReportRejected("data after the end of the gzip stream")
            continue
        data = chunk
        while data and not decoder.eof:
            try:
                piece = decoder.decompress(data, MAX_JSON_BYTES + 1 - len(out))
            except zlib.error as exc:
                raise ReportRejected(f"not valid gzip data ({exc})") from None
            out += piece
            if len(out) > MAX_JSON_BYTES:
                raise ReportRejected(
                    "the report decompresses to over 5 MiB of JSON (decompression bomb?)"
                )
            data = decoder.unconsumed_tail
        if decoder.eof and (decoder.unused_data or data):
            raise ReportRejected("data after the end of the gzip stream")
    if not decoder.eof:
        raise ReportRejected("the gzip stream is truncated or empty")
    return bytes(out)


def iter_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ReportRejected(f"invalid JSON: member {key[:60]!r} appears twice")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ReportRejected(f"invalid JSON: {name} is not a JSON number")


def parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportRejected(f"invalid JSON: not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ReportRejected(f"invalid JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:
        if isinstance(exc, ReportRejected):
            raise
        # Deep nesting, or a number with thousands of digits.
        raise ReportRejected(f"invalid JSON: {type(exc).__name__}") from None


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def _where(path: Iterable[Any]) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _datetime(value: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ReportRejected(f"{where}: {value[:40]!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise ReportRejected(f"{where}: {value[:40]!r} has no time zone")
    return moment


def _ip(value: Any, where: str) -> str | None:
    # Some senders write an empty string where they have no address: the same as absent.
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ReportRejected(f"{where}: {str(value)[:60]!r} is not an IP address") from None


def validate_report(document: Any, *, now: datetime) -> Report:
    """Check a parsed document against the schema and the rules a schema cannot say."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors) or errors[0]
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        raise ReportRejected(f"not an RFC 8460 report: {_where(error.absolute_path)}: {message}")
    start = _datetime(document["date-range"]["start-datetime"], "$.date-range.start-datetime")
    end = _datetime(document["date-range"]["end-datetime"], "$.date-range.end-datetime")
    if end < start:
        raise ReportRejected("$.date-range: the end is before the start")
    if end > now + MAX_CLOCK_SKEW:
        raise ReportRejected("$.date-range: the report ends in the future")
    details = sum(len(entry.get("failure-details", [])) for entry in document["policies"])
    if details > MAX_FAILURE_DETAILS:
        raise ReportRejected(f"the report has over {MAX_FAILURE_DETAILS} failure details")
    policies = []
    for index, entry in enumerate(document["policies"]):
        where = f"$.policies[{index}]"
        policy = entry["policy"]
        mx_host = policy.get("mx-host", [])
        failures = []
        for number, detail in enumerate(entry.get("failure-details", [])):
            at = f"{where}.failure-details[{number}]"
            failures.append(
                Failure(
                    result_type=detail["result-type"],
                    count=int(detail["failed-session-count"]),
                    sending_mta_ip=_ip(detail.get("sending-mta-ip"), f"{at}.sending-mta-ip"),
                    receiving_mx_hostname=detail.get("receiving-mx-hostname", ""),
                    receiving_mx_helo=detail.get("receiving-mx-helo", ""),
                    receiving_ip=_ip(detail.get("receiving-ip"), f"{at}.receiving-ip"),
                    failure_reason_code=detail.get("failure-reason-code", ""),
                    additional_information=detail.get("additional-information", ""),
                )
            )
        summary = entry["summary"]
        policies.append(
            Policy(
                policy_type=policy["policy-type"],
                policy_domain=policy["policy-domain"].strip().rstrip(".").lower(),
                policy_string=tuple(policy.get("policy-string", ())),
                mx_host=(mx_host,) if isinstance(mx_host, str) else tuple(mx_host),
                successful=int(summary["total-successful-session-count"]),
                failed=int(summary["total-failure-session-count"]),
                failures=tuple(failures),
            )
        )
    return Report(
        organization_name=document["organization-name"],
        contact_info=document["contact-info"],
        report_id=document["report-id"],
        start=start,
        end=end,
        policies=tuple(policies),
    )


def parse_report(chunks: Iterable[bytes], kind: str, *, now: datetime) -> Report:
    """Bytes as they arrive (gzip or JSON) to a validated Report, or ReportRejected."""
    return validate_report(parse_json(read_payload(chunks, kind)), now=now)


def report_parts(message: bytes) -> list[tuple[str, bytes]]:
    """The RFC 8460 report parts of a mail message: [(kind, payload bytes)].

    Senders put the report in a `multipart/report` part; some send it as the whole body.
    """
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    found = []
    for count, part in enumerate(parsed.walk(), start=1):
        if count > MAX_MIME_PARTS:
            raise ReportRejected(f"the message has over {MAX_MIME_PARTS} MIME parts")
        kind = payload_kind(part.get_content_type())
        if kind is None or part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            raise ReportRejected("the report part of the message is empty or undecodable")
        found.append((kind, payload))
    return found
