"""Tests for secmail.env, the typed environment readers behind the settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from secmail import env as e


class TestBool:
    def test_it_reads_common_words(self) -> None:
        for word in ("1", "true", "Yes", "ON"):
            assert e.env_bool("X", False, env={"X": word}) is True
        for word in ("0", "false", "No", "off", ""):
            assert e.env_bool("X", True, env={"X": word}) is False

    def test_it_uses_the_default_when_unset(self) -> None:
        assert e.env_bool("X", True, env={}) is True

    def test_it_rejects_unknown_words_naming_the_variable(self) -> None:
        with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe'"):
            e.env_bool("DEBUG", False, env={"DEBUG": "maybe"})


class TestNumbers:
    def test_it_reads_a_port(self) -> None:
        assert e.env_port("P", 25, env={"P": "2525"}) == 2525
        assert e.env_port("P", 25, env={}) == 25

    @pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "25.5"])
    def test_it_rejects_bad_ports(self, value: str) -> None:
        with pytest.raises(ImproperlyConfigured, match=rf"SECMAIL_SMTP_PORT='{value}'"):
            e.env_port("SECMAIL_SMTP_PORT", 25, env={"SECMAIL_SMTP_PORT": value})

    def test_it_reads_seconds(self) -> None:
        assert e.env_seconds("T", 10, env={"T": "2.5"}) == 2.5

    @pytest.mark.parametrize("value", ["-1", "0", "soon", "nan", "inf"])
    def test_it_rejects_bad_timeouts(self, value: str) -> None:
        with pytest.raises(ImproperlyConfigured, match="SECMAIL_PROBE_TIMEOUT"):
            e.env_seconds("SECMAIL_PROBE_TIMEOUT", 30, env={"SECMAIL_PROBE_TIMEOUT": value})

    def test_it_enforces_a_minimum(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            e.env_int("SECMAIL_CYCLE_HOURS", 24, minimum=1, env={"SECMAIL_CYCLE_HOURS": "0"})


class TestResolvers:
    def test_it_parses_every_form(self) -> None:
        value = "127.0.0.1, 127.0.0.2:5353, ::1, [::1]:5300, [2001:db8::1]"
        assert e.env_resolvers("R", env={"R": value}) == [
            ("127.0.0.1", 53),
            ("127.0.0.2", 5353),
            ("::1", 53),
            ("::1", 5300),
            ("2001:db8::1", 53),
        ]

    def test_it_means_the_system_resolver_when_empty(self) -> None:
        assert e.env_resolvers("R", env={}) == []
        assert e.env_resolvers("R", env={"R": " "}) == []

    @pytest.mark.parametrize(
        "value", ["dns.example", "127.0.0.1:53x", "127.0.0.1:", "[::1", "[::1]x", "1.2.3.4:0"]
    )
    def test_it_rejects_bad_resolvers(self, value: str) -> None:
        with pytest.raises(ImproperlyConfigured) as info:
            e.env_resolvers("SECMAIL_DNS_RESOLVERS", env={"SECMAIL_DNS_RESOLVERS": value})
        assert "SECMAIL_DNS_RESOLVERS" in str(info.value)
        assert value in str(info.value)


class TestOthers:
    def test_it_splits_lists(self) -> None:
        assert e.env_list("H", env={"H": "a.example, b.example,,"}) == ["a.example", "b.example"]
        assert e.env_list("H", ["x"], env={}) == ["x"]

    def test_it_requires_an_existing_file(self, tmp_path) -> None:
        bundle = tmp_path / "roots.pem"
        bundle.write_text("")
        assert e.env_file("B", env={"B": str(bundle)}) == str(bundle)
        assert e.env_file("B", env={}) is None
        with pytest.raises(ImproperlyConfigured, match="no such file"):
            e.env_file("B", env={"B": str(tmp_path / "missing.pem")})

    def test_it_rejects_a_host_name_with_spaces(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="SECMAIL_EHLO_NAME"):
            e.env_hostname("SECMAIL_EHLO_NAME", "x", env={"SECMAIL_EHLO_NAME": "mx probe"})

    def test_it_parses_a_database_url(self) -> None:
        config = e.env_database("D", "sqlite:///x", env={"D": "postgres://u:p@db:5432/secmail"})
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert config["NAME"] == "secmail"

    def test_it_rejects_a_bad_database_url_without_showing_the_password(self) -> None:
        with pytest.raises(ImproperlyConfigured) as info:
            e.env_database("DATABASE_URL", "", env={"DATABASE_URL": "nosql://u:hunter2@db/x"})
        assert "DATABASE_URL" in str(info.value)
        assert "hunter2" not in str(info.value)


class TestEmail:
    def test_it_parses_an_smtp_url(self) -> None:
        config = e.parse_email_url("smtp://user%40x:p%3Ass@mail.example:587/?tls=1")
        assert config["EMAIL_HOST"] == "mail.example"
        assert config["EMAIL_PORT"] == 587
        assert config["EMAIL_HOST_USER"] == "user@x"
        assert config["EMAIL_HOST_PASSWORD"] == "p:ss"
        assert config["EMAIL_USE_TLS"] is True
        assert config["EMAIL_USE_SSL"] is False

    def test_it_uses_implicit_tls_for_smtps(self) -> None:
        config = e.parse_email_url("smtps://mail.example")
        assert (config["EMAIL_PORT"], config["EMAIL_USE_SSL"]) == (465, True)

    def test_it_uses_the_console_in_development_by_default(self) -> None:
        config = e.env_email(debug=True, env={})
        assert config["EMAIL_BACKEND"].endswith("console.EmailBackend")

    def test_it_reads_the_separate_variables(self) -> None:
        config = e.env_email(
            debug=False,
            env={"EMAIL_HOST": "mailpit", "EMAIL_PORT": "1025", "EMAIL_USE_TLS": "0"},
        )
        assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("mailpit", 1025)

    @pytest.mark.parametrize(
        "url", ["ftp://x", "smtp://", "smtp://h:99999", "smtp://h/?tls=maybe", "smtps://h/?tls=1"]
    )
    def test_it_rejects_bad_email_urls(self, url: str) -> None:
        with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
            e.env_email(debug=False, env={"EMAIL_URL": url})
