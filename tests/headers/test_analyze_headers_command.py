"""Tests for `manage.py analyze_headers FILE [--json]`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "headers"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("analyze_headers", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_one_json_object_per_hop_in_header_order() -> None:
    out, err = run(str(DATA / "exim.txt"), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {
        "from": "mx.insurer.example [192.0.2.60]",
        "by": "mail.brokerage.example",
        "with": "esmtps",
        "date": "2023-03-14T15:30:02+00:00",
        "tls": True,
        "tls_version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
    }
    assert [line["by"] for line in lines] == [
        "mail.brokerage.example",
        "mx.insurer.example",
        "relay.insurer.example",
        "legacy.insurer.example",
        "batch.insurer.example",
    ]
    assert [line["tls"] for line in lines] == [True, True, True, False, None]
    assert [line["tls_version"] for line in lines] == ["TLSv1.3", "TLSv1.2", "TLSv1", None, None]
    assert err == ""


def test_it_prints_a_table_and_a_summary() -> None:
    out, _ = run(str(DATA / "mimecast.txt"))
    lines = out.splitlines()
    assert lines[0].split() == ["#", "TLS", "version", "cipher", "from", "by", "with", "date"]
    assert lines[2].split() == [
        "2",
        "yes",
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        "mail.insurer.example",
        "[192.0.2.161]",
        "relay.mimecast.example",
        "ESMTP",
        "with",
        "STARTTLS",
        "2023-03-14T11:40:04-04:00",
    ]
    assert lines[4].split()[:4] == ["4", "no", "-", "-"]
    assert "4 hops: 3 with TLS, 1 without, 0 not stated; weakest TLSv1.2" in lines
    assert lines[-1].startswith("Some hops state that they used TLS")


def test_it_says_clearly_when_no_hop_states_tls() -> None:
    out, _ = run(str(DATA / "no_tls.txt"))
    assert "5 hops: 0 with TLS, 4 without, 1 not stated" in out
    assert out.splitlines()[-1].startswith("No hop states that it used TLS.")


def test_it_reads_stdin_for_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((DATA / "gmail.txt").read_text()))
    out, _ = run("-", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["with"], line["tls"]) for line in lines] == [
        ("SMTP", False),
        ("ESMTPS", True),
        ("SMTPS", True),
        ("ESMTPS", True),
        ("ESMTP", False),
        ("HTTP", None),
    ]
    assert lines[1]["cipher"] == "TLS_AES_256_GCM_SHA384"


def test_it_reads_crlf_and_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(
        b"Received: from caf\xe9.example (caf\xe9.example [192.0.2.9])\r\n"
        b" by mx.example with ESMTPS id 1\r\n (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256"
        b" bits=128/128);\r\n Tue, 14 Mar 2023 12:00:00 +0000\r\n\r\nbody\r\n"
    )
    out, _ = run(str(path), "--json")
    [hop] = [json.loads(line) for line in out.splitlines()]
    assert hop["from"] == "caf\ufffd.example [192.0.2.9]"
    assert (hop["tls"], hop["tls_version"], hop["cipher"]) == (
        True,
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
    )
    assert hop["date"] == "2023-03-14T12:00:00+00:00"


def test_it_says_so_on_stderr_when_there_are_no_hops(tmp_path: Path) -> None:
    path = tmp_path / "none.txt"
    path.write_text("Subject: hello\nFrom: a@example.org\n\nReceived: in the body\n")
    out, err = run(str(path), "--json")
    assert out == ""
    assert err.strip() == f"no Received headers found in {path}"


def test_it_fails_clearly_for_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(CommandError, match=f"cannot read {missing}: No such file or directory"):
        run(str(missing))


def test_it_fails_clearly_for_a_directory(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=f"cannot read {tmp_path}: Is a directory"):
        run(str(tmp_path))


def test_it_exits_with_the_right_status_from_the_shell(tmp_path: Path) -> None:
    env = {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PATH": ""}
    manage = [sys.executable, str(ROOT / "manage.py"), "analyze_headers"]
    missing = subprocess.run(
        [*manage, str(tmp_path / "missing.txt")], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr and "No such file or directory" in missing.stderr
    empty = subprocess.run(
        [*manage, "-"], input="", env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "no Received headers found in -" in empty.stderr
    piped = subprocess.run(
        [*manage, "-", "--json"],
        input=(DATA / "ironport.txt").read_text(),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [line["cipher"] for line in lines] == [
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES256-SHA256",
        None,
    ]
