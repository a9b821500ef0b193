"""MTA-STS and TLS-RPT record and policy parsing (RFC 8461, RFC 8460)."""

from __future__ import annotations

import pytest

from monitoring.probe.policies import (
    mx_matches_policy,
    parse_policy,
    parse_sts_record,
    parse_tls_rpt,
)


class TestStsRecord:
    def test_it_reads_the_id(self):
        assert parse_sts_record(("v=STSv1; id=20261123T0000;",)) == ("20261123T0000", None)

    def test_it_ignores_unrelated_txt_records(self):
        assert parse_sts_record(("google-site-verification=x", "v=STSv1; id=abc")) == ("abc", None)

    def test_no_record_is_no_policy(self):
        assert parse_sts_record(("v=spf1 -all",)) == (None, None)

    def test_two_records_are_an_error(self):
        assert parse_sts_record(("v=STSv1; id=a", "v=STSv1; id=b")) == (None, "record-multiple")

    @pytest.mark.parametrize(
        "text",
        [
            "v=STSv1;",
            "v=STSv1; id=",
            "v=STSv1; id=has-dash",
            "v=STSv1; id=" + "a" * 33,
            "v=STSv10; id=a",
        ],
    )
    def test_it_rejects_malformed_records(self, text):
        assert parse_sts_record((text,))[1] == "record-invalid"


class TestPolicy:
    def test_it_parses_an_enforce_policy_with_crlf(self):
        policy = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.ca\r\nmx: *.example.net\r\n"
            "max_age: 604800\r\n"
        )
        assert policy.errors == ()
        assert policy.mode == "enforce"
        assert policy.mx == ("mx1.example.ca", "*.example.net")
        assert policy.max_age == 604800

    def test_none_needs_no_mx(self):
        assert parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").errors == ()

    @pytest.mark.parametrize(
        "body, error",
        [
            ("mode: enforce\nmx: a.b\nmax_age: 1\n", "policy-version"),
            ("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", "policy-mode"),
            ("version: STSv1\nmode: enforce\nmx: a.b\n", "policy-max-age"),
            ("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n", "policy-max-age"),
            ("version: STSv1\nmode: enforce\nmax_age: 5\n", "policy-no-mx"),
            ("<html>not a policy</html>", "policy-syntax"),
        ],
    )
    def test_it_names_what_is_wrong(self, body, error):
        assert error in parse_policy(body).errors


class TestMxPatterns:
    @pytest.mark.parametrize(
        "host, patterns, expected",
        [
            ("mx1.example.ca", ("mx1.example.ca",), True),
            ("MX1.Example.CA.", ("mx1.example.ca",), True),
            ("mx1.example.ca", ("*.example.ca",), True),
            ("a.mx1.example.ca", ("*.example.ca",), False),
            ("example.ca", ("*.example.ca",), False),
            ("mx2.example.ca", ("mx1.example.ca",), False),
        ],
    )
    def test_it_matches_like_rfc_8461(self, host, patterns, expected):
        assert mx_matches_policy(host, patterns) is expected


class TestTlsRpt:
    def test_it_lists_report_uris(self):
        result = parse_tls_rpt(("v=TLSRPTv1; rua=mailto:tls@example.ca,https://r.example.ca/v1",))
        assert result.present is True
        assert result.rua == ("mailto:tls@example.ca", "https://r.example.ca/v1")

    @pytest.mark.parametrize(
        "texts",
        [
            (),
            ("v=TLSRPTv1;",),
            ("v=TLSRPTv1; rua=ftp://x",),
            ("v=TLSRPTv1; rua=mailto:a@b.ca", "v=TLSRPTv1; rua=mailto:c@d.ca"),
        ],
    )
    def test_it_is_absent_without_exactly_one_record_naming_a_uri(self, texts):
        assert parse_tls_rpt(texts).present is False
