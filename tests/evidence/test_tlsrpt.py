"""SMTP TLS reports by mail, POST /tlsrpt/ and import_tlsrpt: same checks, same figures."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import zlib
from io import StringIO
from pathlib import Path
from typing import Any

import dkim
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.evidence.conftest import ALPHA, OTHER, RECEIVER_DOMAIN, SELECTOR
from tests.evidence.reports import (
    EXPECTED,
    as_gzip,
    as_json,
    as_mail,
    google_report,
    microsoft_report,
)

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
TLSRPT = f"tlsrpt@{RECEIVER_DOMAIN}"


def export(*args: str) -> list[dict[str, Any]]:
    out = StringIO()
    call_command("export_tlsrpt", "--format", "json", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def by_file(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    call_command("import_tlsrpt", str(path), stdout=StringIO(), stderr=StringIO())


def by_post(client: Any, data: bytes, content_type: str) -> Any:
    return client.post("/tlsrpt/", data=data, content_type=content_type)


def by_mail(receiver: Any, message: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP(receiver.host, receiver.port, timeout=30) as smtp:
        smtp.ehlo("mail-sor-f41.google.example")
        smtp.mail("noreply-smtp-tls-reporting@other.evidence.lab.test")
        code, _ = smtp.rcpt(TLSRPT)
        assert code == 250
        return smtp.data(message)


def sign(message: bytes, key: bytes) -> bytes:
    return (
        dkim.sign(
            message,
            SELECTOR.encode(),
            OTHER.encode(),
            key,
            include_headers=[b"from", b"to", b"subject"],
        )
        + message
    )


@pytest.fixture
def registry(orgs: Any) -> Any:
    from django.core.cache import cache

    cache.clear()  # the POST allowance per client address lives in the cache
    return orgs


class TestChannels:
    @pytest.mark.parametrize("channel", ["file", "post", "mail"])
    def test_it_gives_the_same_figures_by_every_channel(
        self,
        channel: str,
        registry: Any,
        tmp_path: Path,
        client: Any,
        start_receiver: Any,
        dkim_keys: Any,
    ) -> None:
        from monitoring.evidence.models import TlsReport

        google, microsoft = google_report(), microsoft_report()
        if channel == "file":
            by_file(tmp_path, "google.json.gz", as_gzip(google))
            by_file(tmp_path, "microsoft.json", as_json(microsoft))
        elif channel == "post":
            assert by_post(client, as_gzip(google), "application/tlsrpt+gzip").status_code == 201
            assert by_post(client, as_json(microsoft), "application/tlsrpt+json").status_code == 201
        else:
            receiver = start_receiver()
            code, reply = by_mail(receiver, sign(as_mail(as_gzip(google)), dkim_keys.other))
            assert code == 250, reply
            code, reply = by_mail(receiver, as_mail(as_json(microsoft), gzipped=False))
            assert code == 250, reply
            dkim_results = dict(TlsReport.objects.values_list("organization_name", "dkim_result"))
            assert dkim_results == {"Google Inc.": "pass", "Microsoft Corporation": "none"}
        assert export() == EXPECTED
        assert export("--days", "7") == EXPECTED
        assert export("--days", "1") == []

    def test_it_keeps_policies_failures_and_only_registry_domains(self, registry: Any) -> None:
        from monitoring.evidence.models import TlsReportFailure, TlsReportPolicy
        from monitoring.evidence.services import tlsrpt_ingest

        outcome = tlsrpt_ingest(chunks=[as_json(google_report())], kind="json", channel="file")
        assert outcome.ignored_domains == ("unregistered.example",)
        sts = TlsReportPolicy.objects.get(policy_type="sts", domain__name=ALPHA)
        assert sts.policy_string[1] == "mode: enforce"
        assert sts.mx_host == [f"mx1.{ALPHA}", f"mx2.{ALPHA}"]
        assert (sts.successful, sts.failed) == (2310, 12)
        failure = TlsReportFailure.objects.get(result_type="certificate-expired")
        assert (failure.sending_mta_ip, failure.receiving_ip, failure.count) == (
            "209.85.220.41",
            "192.0.2.25",
            12,
        )
        assert failure.receiving_mx_hostname == f"mx2.{ALPHA}"
        assert TlsReportPolicy.objects.count() == 3

    def test_it_stores_a_duplicate_once_and_says_so(
        self, registry: Any, tmp_path: Path, client: Any
    ) -> None:
        from monitoring.evidence.models import TlsReport

        by_file(tmp_path, "g.json", as_json(google_report()))
        response = by_post(client, as_gzip(google_report()), "application/tlsrpt+gzip")
        assert response.status_code == 200
        assert "already stored" in response.json()["message"]
        out = StringIO()
        call_command("import_tlsrpt", str(tmp_path / "g.json"), stdout=out)
        assert "already stored; ignored" in out.getvalue()
        assert TlsReport.objects.count() == 1


def _bomb(path: Path, gigabytes: float = 1.0) -> Path:
    """A gzip file of zeros: about 1 MiB that inflates to `gigabytes` GiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * (1024 * 1024)
    with path.open("wb") as handle:
        for _ in range(int(gigabytes * 1024)):
            handle.write(compressor.compress(block))
        handle.write(compressor.flush())
    return path


def _hostile(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """name → (bytes, the reason's words)."""
    absurd = google_report()
    absurd["policies"][0]["summary"]["total-successful-session-count"] = 10**12
    negative = google_report()
    negative["policies"][0]["failure-details"][0]["failed-session-count"] = -1
    shape = google_report()
    shape["policies"][0]["summary"] = "lots"
    future = google_report()
    future["date-range"]["end-datetime"] = "2999-01-01T00:00:00Z"
    bad_ip = google_report()
    bad_ip["policies"][0]["failure-details"][0]["sending-mta-ip"] = "999.1.1.1"
    unregistered = google_report()
    unregistered["policies"] = unregistered["policies"][3:]
    big = json.dumps({**google_report(), "padding": "x" * (6 * 1024 * 1024)}).encode()
    return {
        "bomb": (_bomb(tmp_path / "bomb.json.gz").read_bytes(), "over 5 MiB of JSON"),
        "invalid-json": (b'{"organization-name": "Google Inc.", ', "invalid JSON"),
        "not-utf8": (b'{"organization-name": "\xff"}', "not UTF-8"),
        "nan": (as_json(google_report()).replace(b"2310", b"NaN"), "invalid JSON"),
        "duplicate-key": (b'{"report-id": "a", "report-id": "b"}', "appears twice"),
        "deep": (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        "wrong-shape": (as_json(shape), "$.policies[0].summary"),
        "not-an-object": (b"[1, 2, 3]", "not an RFC 8460 report"),
        "absurd-count": (as_json(absurd), "total-successful-session-count"),
        "negative-count": (as_json(negative), "failed-session-count"),
        "future": (as_json(future), "ends in the future"),
        "bad-ip": (as_json(bad_ip), "is not an IP address"),
        "unregistered": (as_json(unregistered), "no policy domain of the report is registered"),
        "very-large": (big, "over 5 MiB"),
        "gzip-trailing": (as_gzip(google_report()) + b"garbage", "after the end of the gzip"),
        "gzip-truncated": (as_gzip(google_report())[:-20], "truncated"),
    }


class TestHostileReports:
    def test_it_rejects_each_hostile_file_whole_with_a_reason(
        self, registry: Any, tmp_path: Path
    ) -> None:
        from monitoring.evidence.models import TlsReport

        for name, (data, reason) in _hostile(tmp_path).items():
            path = tmp_path / f"{name}.in"
            path.write_bytes(data)
            err = StringIO()
            with pytest.raises(CommandError, match="1 of 1 file"):
                call_command("import_tlsrpt", str(path), stdout=StringIO(), stderr=err)
            assert reason in err.getvalue(), (name, err.getvalue())
        assert TlsReport.objects.count() == 0

    def test_it_rejects_hostile_posts_with_4xx(
        self, registry: Any, tmp_path: Path, client: Any
    ) -> None:
        from monitoring.evidence.models import TlsReport

        for name, (data, reason) in _hostile(tmp_path).items():
            kind = "gzip" if data[:2] == b"\x1f\x8b" else "json"
            response = by_post(client, data, f"application/tlsrpt+{kind}")
            assert 400 <= response.status_code < 500, name
            assert reason in response.json()["reason"] or response.status_code == 413, name
        assert by_post(client, as_json(google_report()), "application/json").status_code == 415
        assert client.get("/tlsrpt/").status_code == 405
        assert TlsReport.objects.count() == 0

    def test_it_rejects_hostile_mail_at_the_end_of_data(
        self, registry: Any, tmp_path: Path, receiver: Any
    ) -> None:
        from monitoring.evidence.models import TlsReport

        hostile = _hostile(tmp_path)
        for name in ("bomb", "wrong-shape", "absurd-count", "invalid-json"):
            data, reason = hostile[name]
            code, reply = by_mail(receiver, as_mail(data, gzipped=data[:2] == b"\x1f\x8b"))
            assert code == 550, name
            assert reason.encode() in reply, (name, reply)
        code, reply = by_mail(receiver, b"Subject: no report\r\n\r\nhello\r\n")
        assert code == 550 and b"no application/tlsrpt" in reply
        assert TlsReport.objects.count() == 0

    def test_it_takes_posts_without_a_csrf_token(self, registry: Any) -> None:
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        response = by_post(strict, as_gzip(google_report()), "application/tlsrpt+gzip")
        assert response.status_code == 201

    def test_it_rate_limits_posts_per_client(
        self, registry: Any, client: Any, settings: Any
    ) -> None:
        from django.core.cache import cache

        cache.clear()
        settings.SECMAIL_TLSRPT_POSTS_PER_HOUR = 3
        statuses = [by_post(client, b"{}", "application/tlsrpt+json").status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 429]
        cache.clear()

    def test_it_counts_each_client_behind_a_declared_proxy_apart(
        self, registry: Any, client: Any, settings: Any
    ) -> None:
        from django.core.cache import cache

        cache.clear()
        settings.SECMAIL_TLSRPT_POSTS_PER_HOUR = 2
        settings.SECMAIL_TRUSTED_PROXIES = ["10.0.0.2"]

        def post(sender: str) -> int:
            return client.post(
                "/tlsrpt/",
                b"{}",
                content_type="application/tlsrpt+json",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR=sender,
            ).status_code

        assert [post("203.0.113.1") for _ in range(3)] == [400, 400, 429]
        assert post("203.0.113.2") == 400  # another sender through the same proxy
        cache.clear()


MEMORY_PROBE = """
import datetime, resource, sys, tracemalloc
from pathlib import Path
from monitoring.evidence import tlsrpt
tlsrpt._validator()  # imports and the schema are not the report's cost
traced = sys.argv[2] == "traced"
if traced:
    tracemalloc.start()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    tlsrpt.parse_report(
        tlsrpt.iter_file(Path(sys.argv[1])), tlsrpt.GZIP, now=datetime.datetime.now(datetime.UTC)
    )
except tlsrpt.ReportRejected as exc:
    print("rejected:", exc)
if traced:
    print("peak_bytes", tracemalloc.get_traced_memory()[1])
else:
    print("rss_growth_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def _probe(bomb: Path, mode: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(bomb), mode],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


@pytest.mark.slow
def test_it_rejects_a_gzip_bomb_in_bounded_memory(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.json.gz", gigabytes=2)
    traced, plain = _probe(bomb, "traced"), _probe(bomb, "plain")
    assert "decompresses to over 5 MiB" in traced["rejected:"]
    peak, growth = int(traced["peak_bytes"]), int(plain["rss_growth_kib"])
    print(f"bomb {bomb.stat().st_size} B -> 2 GiB: peak {peak} B allocated, RSS +{growth} KiB")
    # The cap is 5 MiB of output; a copy of it and the input chunks are all we hold.
    assert peak < 16 * 1024 * 1024
    assert growth < 32 * 1024
