"""A real Postfix on loopback delivers to the receiver as an organization's gateway would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.conftest import ALPHA

POSTFIX = "/usr/sbin/postfix"
SENDMAIL = "/usr/sbin/sendmail"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(POSTFIX).exists() and Path("/etc/postfix/master.cf").exists()),
        reason="Debian's postfix is not installed",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="starting Postfix needs root"),
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def postfix(receiver: Any) -> Iterator[Path]:
    """A throwaway Postfix instance relaying everything to the receiver from 127.0.0.2."""
    # Not under pytest's tmp folder: Postfix's daemons run as `postfix`, which must be able
    # to reach the queue, and pytest's folders are private to root.
    base = Path(tempfile.mkdtemp(prefix="secmail-postfix-"))
    base.chmod(0o755)
    config, queue, data = base / "etc", base / "queue", base / "data"
    for folder in (config, queue, data):
        folder.mkdir()
    shutil.chown(data, "postfix")
    master = Path("/etc/postfix/master.cf").read_text()
    # No listening smtpd: this instance only sends (port 25 may belong to someone else).
    master = re.sub(r"^smtp\s+inet\b.*$", "", master, flags=re.MULTILINE)
    (config / "master.cf").write_text(master)
    (config / "main.cf").write_text(
        "\n".join(
            [
                "compatibility_level = 3.6",
                f"queue_directory = {queue}",
                f"data_directory = {data}",
                "mail_owner = postfix",
                "setgid_group = postdrop",
                "inet_interfaces = loopback-only",
                "inet_protocols = ipv4",
                f"myhostname = gw2.{ALPHA}",
                f"myorigin = {ALPHA}",
                "mydestination =",
                "local_transport = error:no local delivery",
                f"relayhost = [{receiver.host}]:{receiver.port}",
                # Alpha's second gateway: its SPF record authorizes 127.0.0.2.
                "smtp_bind_address = 127.0.0.2",
                "smtp_tls_security_level = encrypt",
                "smtp_dns_support_level = disabled",
                "smtp_host_lookup = native",
                f"maillog_file = {base / 'maillog'}",
                f"maillog_file_prefixes = {base}",
                "",
            ]
        )
    )
    started = _run(POSTFIX, "-c", str(config), "start")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield config
    finally:
        _run(POSTFIX, "-c", str(config), "stop")
        log = base / "maillog"
        if log.exists():
            print(log.read_text()[-3000:])
        shutil.rmtree(base, ignore_errors=True)


def test_it_records_a_real_postfix_gateway(postfix: Path, orgs: Any) -> None:
    from monitoring.evidence.models import ReceivedMessage

    message = f"From: it@{ALPHA}\nTo: {orgs.alpha_address}\nSubject: gateway test\n\nhello\n"
    submitted = subprocess.run(
        [SENDMAIL, "-C", str(postfix), "-f", f"it@{ALPHA}", orgs.alpha_address],
        input=message, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ReceivedMessage.objects.exists():
        time.sleep(0.5)
    stored = ReceivedMessage.objects.get()
    assert stored.client_ip == "127.0.0.2"
    assert stored.helo == f"gw2.{ALPHA}"
    assert stored.tls_version in ("TLSv1.2", "TLSv1.3")
    assert (stored.spf_result, stored.authenticated) == ("pass", True)
