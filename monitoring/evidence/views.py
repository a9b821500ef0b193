"""POST /tlsrpt/: SMTP TLS reports over HTTPS (RFC 8460 §3), open to any sender."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from monitoring.evidence import tlsrpt
from monitoring.evidence.models import TlsReport
from monitoring.evidence.services import tlsrpt_ingest, tlsrpt_post_allowed
from secmail.security.client import client_address


def _body(request: HttpRequest) -> Iterator[bytes]:
    # Read in chunks: the ingest caps stop a huge or endless body without holding it.
    while chunk := request.read(tlsrpt.CHUNK):
        yield chunk


def _rejected(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"status": "rejected", "reason": reason}, status=status)


@csrf_exempt  # senders are mail systems, not browsers: there is no session to protect
@require_POST
def tlsrpt_post(request: HttpRequest) -> JsonResponse:
    # The client behind a declared proxy, as every other limit sees it (docs/security.md).
    client = client_address(request)
    if not tlsrpt_post_allowed(client=client):
        return _rejected(429, "too many reports from your address; try again in an hour")
    kind = tlsrpt.payload_kind(request.content_type or "")
    if kind is None:
        return _rejected(415, "send application/tlsrpt+gzip or application/tlsrpt+json (RFC 8460)")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > tlsrpt.MAX_COMPRESSED_BYTES:
        return _rejected(413, "the report is over 5 MiB")
    try:
        outcome = tlsrpt_ingest(
            chunks=_body(request), kind=kind, channel=TlsReport.Channel.HTTP, source=client
        )
    except tlsrpt.ReportRejected as exc:
        return _rejected(400, str(exc))
    return JsonResponse(
        {"status": outcome.status, "message": outcome.message},
        status=201 if outcome.status == "stored" else 200,
    )
