"""Tests for the Received-header parser: every vendor's TLS wording, folding, bounds, garbage."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitoring.headers.parser import (
    MAX_HOPS,
    MAX_INPUT_CHARS,
    Hop,
    Summary,
    normalize_tls_version,
    parse_headers,
    summarize,
)
from tests.purity import django_modules_loaded_by

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "headers"
EDT = timezone(timedelta(hours=-4))
PDT = timezone(timedelta(hours=-7))


def hops_of(name: str) -> list[Hop]:
    return parse_headers((DATA / name).read_bytes().decode("utf-8", errors="replace"))


def facts(hop: Hop) -> tuple:
    return (hop.tls, hop.tls_version, hop.cipher)


def test_it_reads_postfix_tls_clauses_from_a_whole_message() -> None:
    hops = hops_of("postfix.eml")
    assert [hop.to_json() for hop in hops] == [
        {
            "from": "mx1.insurer.example",
            "by": "imap1.insurer.example",
            "with": "LMTP",
            "date": "2023-03-14T10:15:43-04:00",
            "tls": False,
            "tls_version": None,
            "cipher": None,
        },
        {
            "from": "smtp.broker.example [192.0.2.25]",
            "by": "mx1.insurer.example",
            "with": "ESMTPS",
            "date": "2023-03-14T10:15:42-04:00",
            "tls": True,
            "tls_version": "TLSv1.3",
            "cipher": "TLS_AES_256_GCM_SHA384",
        },
        {
            "from": "relay.broker.example [198.51.100.14]",
            "by": "smtp.broker.example",
            "with": "ESMTPS",
            "date": "2023-03-14T14:15:41+00:00",
            "tls": True,
            "tls_version": "TLSv1.2",
            "cipher": "ECDHE-RSA-AES256-GCM-SHA384",
        },
        {
            "from": "[192.0.2.77] [198.51.100.200]",
            "by": "relay.broker.example",
            "with": "ESMTPSA",
            "date": "2023-03-14T14:15:40+00:00",
            "tls": True,
            "tls_version": None,
            "cipher": None,
        },
        {
            "from": None,
            "by": "relay.broker.example",
            "with": None,
            "date": "2023-03-14T14:15:39+00:00",
            "tls": None,
            "tls_version": None,
            "cipher": None,
        },
    ]


def test_it_stops_at_the_blank_line_before_the_body() -> None:
    hops = hops_of("postfix.eml")
    assert len(hops) == 5
    assert all("rogue.example" not in hop.raw for hop in hops)


def test_it_keeps_the_date_as_written_and_aware() -> None:
    hop = hops_of("postfix.eml")[1]
    assert hop.date_text == "Tue, 14 Mar 2023 10:15:42 -0400 (EDT)"
    assert hop.date == datetime(2023, 3, 14, 10, 15, 42, tzinfo=EDT)
    assert hop.date.utcoffset() == timedelta(hours=-4)
    assert hop.raw.startswith("from smtp.broker.example (smtp.broker.example [192.0.2.25]) (using")


def test_it_reads_sendmail_clauses_including_the_old_tlsv1_sslv3_name() -> None:
    hops = hops_of("sendmail.txt")
    assert [facts(hop) for hop in hops] == [
        (True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        (True, "TLSv1", "DHE-RSA-AES256-SHA"),  # "with ESMTP", but the clause says TLS
        (False, None, None),
        (True, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    ]
    assert [hop.with_ for hop in hops] == ["ESMTPS", "ESMTP", "ESMTP", "ESMTPSA"]
    assert hops[1].from_ == "gw.insurer.example [198.51.100.8]"
    assert hops[1].by == "mail.insurer.example"
    assert hops[3].from_ == "workstation.insurer.example [192.0.2.42]"
    assert hops[0].date == datetime(2023, 3, 14, 11, 1, 2, tzinfo=EDT)


def test_it_reads_exim_clauses_old_and_new() -> None:
    hops = hops_of("exim.txt")
    assert [facts(hop) for hop in hops] == [
        (True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),  # (TLS1.3) tls CIPHER
        (True, "TLSv1.2", "ECDHE_RSA_AES_256_GCM_SHA384"),  # GnuTLS build
        (True, "TLSv1", "DHE-RSA-AES256-SHA"),  # OpenSSL build
        (False, None, None),  # with esmtp
        (None, None, None),  # with local
    ]
    assert [hop.with_ for hop in hops] == ["esmtps", "esmtps", "esmtps", "esmtp", "local"]
    assert hops[0].from_ == "mx.insurer.example [192.0.2.60]"
    assert hops[0].by == "mail.brokerage.example"
    assert hops[1].from_ == "[2001:db8:10::25]"
    assert hops[2].from_ == "legacy.insurer.example [198.51.100.61]"
    assert hops[4].from_ == "notices"
    assert hops[0].date == datetime(2023, 3, 14, 15, 30, 2, tzinfo=UTC)


def test_it_reads_exchange_and_microsoft_365_with_crlf_line_ends() -> None:
    assert b"\r\n" in (DATA / "exchange.txt").read_bytes()
    hops = hops_of("exchange.txt")
    assert [(hop.with_, *facts(hop)) for hop in hops] == [
        ("HTTPS", None, None, None),
        ("Microsoft SMTP Server", True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        ("Microsoft SMTP Server", True, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("Microsoft SMTP Server", True, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("Microsoft SMTP Server", True, None, None),  # Exchange 2010: "(TLS)"
        ("mapi", None, None, None),
    ]
    assert hops[0].from_ == "YT3PR01MB9876.CANPRD01.PROD.OUTLOOK.EXAMPLE [2001:db8:b01::12]"
    assert hops[0].date == datetime(2023, 3, 14, 15, 0, 3, tzinfo=UTC)  # folded inside the date
    assert hops[3].from_ == "mail.insurer.example [192.0.2.90]"
    assert hops[3].by == "YT2CAN01FT012.mail.protection.outlook.example"
    assert hops[5].from_ == "EXCH02.corp.insurer.example [2001:db8:92::1]"
    assert hops[5].date == datetime(2023, 3, 14, 10, 59, 59, tzinfo=EDT)


def test_it_reads_gmail_esmtps_smtps_smtp_and_http() -> None:
    hops = hops_of("gmail.txt")  # X-Received is not a Received header
    assert [(hop.with_, *facts(hop)) for hop in hops] == [
        ("SMTP", False, None, None),
        ("ESMTPS", True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        ("SMTPS", True, None, None),
        ("ESMTPS", True, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
        ("ESMTP", False, None, None),
        ("HTTP", None, None, None),
    ]
    assert hops[0].from_ is None
    assert hops[0].by == "2001:db8:7000:1::abcd"
    assert hops[1].from_ == "mail.insurer.example [192.0.2.110]"
    assert hops[1].by == "mx.google.example"
    assert hops[1].date == datetime(2023, 3, 14, 8, 0, 3, tzinfo=PDT)


def test_it_reads_symantec_messagelabs_forms() -> None:
    hops = hops_of("symantec.txt")
    assert [(hop.from_, hop.by, hop.with_, *facts(hop)) for hop in hops] == [
        (
            "[192.0.2.140]",
            "server-3.bemta-8.messagelabs.example",
            None,
            True,
            "TLSv1.2",
            "DHE-RSA-AES256-GCM-SHA384",
        ),
        (None, None, None, None, None, None),  # (qmail 12345 invoked from network)
        (
            "mail.insurer.example [198.51.100.141]",
            "server-5.tower-123.messagelabs.example",
            "encrypted SMTP",
            True,
            None,
            "ECDHE-RSA-AES256-GCM-SHA384",
        ),
        (
            "smg.insurer.example [192.0.2.142]",
            "mail.insurer.example",
            "SMTP",
            False,
            None,
            None,
        ),
        (
            "[198.51.100.143:56935]",
            "server-9.bemta-4.messagelabs.example",
            None,
            None,
            None,
            None,
        ),
        (
            "[192.0.2.144]",
            "server-2.bemta-3.messagelabs.example",
            None,
            True,
            "TLSv1",
            "DHE-RSA-AES256-SHA",
        ),
    ]
    assert hops[1].date == datetime(2023, 3, 14, 15, 10, 2, tzinfo=UTC)  # "-0000"


def test_it_reads_proofpoint_sendmail_style_clauses() -> None:
    hops = hops_of("proofpoint.txt")
    assert [(hop.with_, *facts(hop)) for hop in hops] == [
        ("ESMTPS", True, None, None),  # Postfix wrote no "(using …)": the protocol says TLS
        ("ESMTPS", True, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("ESMTP", False, None, None),
        ("ESMTP", True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
    ]
    assert hops[1].by == "mx0a-00123456.pphosted.example"
    assert hops[2].from_ == "pps.filterd [127.0.0.1]"


def test_it_reads_mimecast_starttls_clauses() -> None:
    hops = hops_of("mimecast.txt")
    assert [(hop.with_, *facts(hop)) for hop in hops] == [
        ("ESMTPS", True, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("ESMTP with STARTTLS", True, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        ("ESMTP with STARTTLS", True, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("ESMTP", False, None, None),
    ]
    assert hops[1].from_ == "mail.insurer.example [192.0.2.161]"
    assert hops[1].by == "relay.mimecast.example"
    assert hops[1].date == datetime(2023, 3, 14, 11, 40, 4, tzinfo=EDT)


def test_it_reads_ironport_slash_clauses() -> None:
    hops = hops_of("ironport.txt")
    assert [(hop.from_, hop.with_, *facts(hop)) for hop in hops] == [
        ("unknown [192.0.2.170]", "ESMTP/TLS", True, None, "ECDHE-RSA-AES256-GCM-SHA384"),
        ("relay.insurer.example [198.51.100.171]", "ESMTP/TLS", True, None, "AES256-SHA256"),
        ("app.insurer.example [192.0.2.172]", "ESMTP", False, None, None),
    ]
    assert hops[0].date == datetime(2023, 3, 14, 11, 50, 3, tzinfo=EDT)  # no day name


def test_it_says_when_no_hop_states_tls() -> None:
    hops = hops_of("no_tls.txt")
    assert [hop.tls for hop in hops] == [False, False, False, False, None]
    assert hops[2].with_ == "Microsoft SMTP Server"  # no "(TLS)" or "(version=…)"
    assert hops[4].from_ is None
    assert hops[4].by == "batch.insurer.example"
    summary = summarize(hops)
    assert summary == Summary(total=5, with_tls=0, without_tls=4, unknown=1, weakest_version=None)
    assert summary.verdict == "no-tls-stated"


def test_it_unfolds_headers_pasted_with_leading_spaces() -> None:
    hops = hops_of("pasted_indented.txt")
    assert [hop.to_json() for hop in hops] == [
        {
            "from": "mail.insurer.example [192.0.2.190]",
            "by": "mx.brokerage.example",
            "with": "ESMTPS",
            "date": "2023-03-14T12:30:02-04:00",
            "tls": True,
            "tls_version": "TLSv1.3",
            "cipher": "TLS_AES_128_GCM_SHA256",
        },
        {
            "from": "app.insurer.example [192.0.2.191]",
            "by": "mail.insurer.example",
            "with": "esmtps",
            "date": "2023-03-14T16:30:01+00:00",
            "tls": True,
            "tls_version": "TLSv1.2",
            "cipher": "ECDHE-ECDSA-AES256-GCM-SHA384",
        },
    ]


def test_it_reads_a_paste_whose_first_line_lost_its_indentation() -> None:
    text = (
        "Received: by b.example with ESMTP id 2; Tue, 14 Mar 2023 12:00:01 +0000\n"
        "    Received: from c.example (c.example [192.0.2.3])\n"
        "        by a.example with ESMTPS id 1; Tue, 14 Mar 2023 12:00:00 +0000\n"
        "    Subject: indented\n"
    )
    hops = parse_headers(text)
    assert [(hop.from_, hop.by, hop.tls) for hop in hops] == [
        (None, "b.example", False),
        ("c.example [192.0.2.3]", "a.example", True),
    ]


def test_it_reads_old_mac_line_ends_and_nested_comments() -> None:
    text = (
        "Received: from a.example (a.example [192.0.2.1]\r (using TLSv1.2 with cipher"
        " ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits) (nested (twice)))) by b.example"
        " (Postfix) with ESMTPS id 1;\r Tue, 14 Mar 2023 12:00:00 +0000\rSubject: x\r"
    )
    [hop] = parse_headers(text)
    assert (hop.from_, hop.by) == ("a.example [192.0.2.1]", "b.example")
    assert facts(hop) == (True, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    assert hop.date == datetime(2023, 3, 14, 12, 0, tzinfo=UTC)


def test_it_never_raises_on_garbage() -> None:
    hops = hops_of("garbage.txt")
    assert len(hops) == 11
    assert hops[0] == Hop(None, None, None, None, None, None, None, None, raw="")
    assert hops[1].date is None and hops[1].date_text is None
    assert hops[2].from_ is None and hops[2].tls is None  # "from ((((( unbalanced"
    assert (hops[4].from_, hops[4].date, hops[4].tls) == ("host.example", None, True)
    assert hops[4].date_text == "Tue, 99 Foo 2023 99:99:99 +9999"
    assert (hops[5].with_, hops[5].tls, hops[5].date) == ("ESMTP", False, None)  # year overflow
    assert (hops[6].with_, hops[6].tls) == ("XYZZY", None)  # unknown protocol, no clause
    assert (hops[8].by, hops[8].with_, hops[8].tls) == ("q.example", "SMTP", False)
    # No zone at all: read as UTC rather than dropped.
    assert (hops[9].tls, hops[9].date) == (True, datetime(2023, 3, 14, 12, 0, tzinfo=UTC))
    assert hops[10].from_ == "bin.example"


def test_it_never_raises_on_random_input() -> None:
    rng = random.Random(20231114)
    alphabet = 'Received:()[]<>"\\;=/_- \t\r\nfrom by with ESMTPS TLSv1.2 cipher=version=TLS1_3'
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        for hop in parse_headers(text):
            assert hop.tls in (True, False, None)
            assert hop.date is None or hop.date.tzinfo is not None
            json.dumps(hop.to_json())


def test_it_bounds_hops_and_input() -> None:
    line = "Received: from a.example by b.example with ESMTP id 1; 14 Mar 2023 12:00:00 +0000\n"
    assert len(parse_headers(line * (MAX_HOPS + 100))) == MAX_HOPS
    padding = "X-Padding: " + "x" * MAX_INPUT_CHARS + "\n"
    assert parse_headers(line + padding + line) == parse_headers(line)


def test_it_skips_leading_blank_lines_and_other_headers() -> None:
    text = "\n\n  \nSubject: x\nReceived: by b.example with ESMTPS; 14 Mar 2023 12:00:00 +0000\n"
    [hop] = parse_headers(text)
    assert (hop.by, hop.with_, hop.tls) == ("b.example", "ESMTPS", True)


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        ("TLS1_2", "TLSv1.2"),
        ("TLS1.2", "TLSv1.2"),
        ("TLSv1.2", "TLSv1.2"),
        ("TLS 1.2", "TLSv1.2"),
        ("tlsv1.3", "TLSv1.3"),
        ("TLS1_3", "TLSv1.3"),
        ("TLSv1.1", "TLSv1.1"),
        ("TLSv1", "TLSv1"),
        ("TLS1_0", "TLSv1"),
        ("TLSv1.0", "TLSv1"),
        ("TLSv1/SSLv3", "TLSv1"),
        ("SSLv3", "SSLv3"),
        ("TLSv9.9", None),
        ("TLS1.4", None),
        ("ESMTPS", None),
        ("", None),
    ],
)
def test_it_normalizes_versions(written: str, normalized: str | None) -> None:
    assert normalize_tls_version(written) == normalized


@pytest.mark.parametrize(
    ("protocol", "tls"),
    [
        ("ESMTPS", True),
        ("ESMTPSA", True),
        ("UTF8SMTPS", True),
        ("LMTPS", True),
        ("esmtpsa", True),
        ("SMTPS", True),
        ("ESMTP", False),
        ("SMTP", False),
        ("LMTP", False),
        ("ESMTPA", False),
        ("UTF8SMTP", False),
        ("HTTP", None),
        ("HTTPS", None),
        ("local", None),
        ("mapi", None),
        ("bizsmtp", None),
    ],
)
def test_it_reads_tls_from_the_protocol_type(protocol: str, tls: bool | None) -> None:
    text = f"Received: from a.example by b.example with {protocol} id 1; 14 Mar 2023 12:00:00 +0000"
    [hop] = parse_headers(text)
    assert (hop.with_, hop.tls, hop.tls_version) == (protocol, tls, None)


TLS_CLAUSES = [
    (
        "with ESMTP (TLS: TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384)",
        "TLSv1.2",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    (
        "with ESMTPS (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)",  # OpenSMTPD
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
    ),
    (
        "with esmtps (TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256)",  # Exim 4.93
        "TLSv1.3",
        "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM",
    ),
    (
        "with HTTP (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)",
        "TLSv1.2",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
]


@pytest.mark.parametrize(("clause", "version", "cipher"), TLS_CLAUSES)
def test_it_lets_a_tls_clause_override_the_protocol(clause: str, version: str, cipher: str) -> None:
    text = f"Received: from a.example by b.example {clause}; 14 Mar 2023 12:00 -0000"
    [hop] = parse_headers(text)
    assert facts(hop) == (True, version, cipher)


def test_it_summarizes_hops_with_the_weakest_version() -> None:
    hops = hops_of("exim.txt") + hops_of("exchange.txt")
    assert summarize(hops) == Summary(
        total=11, with_tls=7, without_tls=1, unknown=3, weakest_version="TLSv1"
    )
    assert summarize(hops_of("pasted_indented.txt")).verdict == "all-tls"
    assert summarize(hops_of("gmail.txt")).verdict == "some-tls"
    assert summarize([]) == Summary(0, 0, 0, 0, None)
    assert summarize([]).verdict == "no-hops"


def test_it_words_each_verdict_through_the_translation_module() -> None:
    from monitoring.headers.wording import VERDICT_MESSAGES, verdict_message

    assert set(VERDICT_MESSAGES) == {"no-hops", "no-tls-stated", "all-tls", "some-tls"}
    message = str(verdict_message(summarize(hops_of("no_tls.txt"))))
    assert message.startswith("No hop states that it used TLS.")


def test_it_imports_without_django() -> None:
    assert django_modules_loaded_by("monitoring.headers.parser") == []
