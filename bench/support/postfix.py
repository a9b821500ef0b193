"""Real Postfix smtpd listeners on loopback addresses, in a throwaway directory, for benchmarks.

Needs root and Debian's postfix package. Everything lives under one temporary directory (its
own config_directory, queue_directory and data_directory); `master` is stopped, and waited
for, on exit. Postfix never relays or accepts mail here: every recipient is rejected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bench import support

POSTFIX = "/usr/sbin/postfix"


def available() -> str | None:
    """None when Postfix can be run here, else why not."""
    if os.geteuid() != 0:
        return "needs root (postfix's master runs as root)"
    if not Path(POSTFIX).exists() or shutil.which("postconf") is None:
        return "needs Debian's postfix package"
    return None


@dataclass(frozen=True)
class TestPki:
    ca_bundle: Path
    chain: Path
    key: Path


def make_pki(directory: Path, names: list[str]) -> TestPki:
    """A throwaway root and one leaf for `names` (wildcards welcome), as PEM files."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secmail bench root CA")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    pki = TestPki(directory / "ca.pem", directory / "chain.pem", directory / "key.pem")
    pki.ca_bundle.write_bytes(root.public_bytes(pem))
    pki.chain.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    pki.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(pki.key, 0o600)
    return pki


def free_port(addresses: list[str]) -> int:
    """A TCP port free on every Postfix address."""
    return support.free_port(addresses, (socket.SOCK_STREAM,), first=25250, step=7)


MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-mx.lab.test
mydomain = lab.test
myorigin = $myhostname
mydestination =
relay_domains =
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_event_limit_exceptions = 0.0.0.0/0
smtpd_tls_security_level = may
smtpd_tls_chain_files = {key}, {chain}
smtpd_tls_loglevel = 0
biff = no
"""

MASTER_CF_SERVICES = """\
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix - - n 1000? 1 tlsmgr
anvil     unix - - n - 1 anvil
proxymap  unix - - n - - proxymap
cleanup   unix n - n - 0 cleanup
rewrite   unix - - n - - trivial-rewrite
qmgr      unix n - n 300 1 qmgr
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
"""


@contextlib.contextmanager
def postfix_listeners(root: Path, addresses: list[str], port: int, pki: TestPki) -> Iterator[None]:
    """Run smtpd on every address:port until the block ends; stops and waits for master."""
    config = root / "etc"
    config.mkdir(parents=True, exist_ok=True)
    # Postfix's own layout: the queue owned by root, the data directory by mail_owner, and
    # every level readable so that the unprivileged daemons can reach their sockets.
    os.chmod(root, 0o755)
    (root / "queue").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    shutil.chown(root / "data", "postfix", "postfix")
    (config / "main.cf").write_text(MAIN_CF.format(root=root, key=pki.key, chain=pki.chain))
    listeners = "".join(
        # Enough processes that the probe's concurrency never waits for one.
        f"{address}:{port} inet n - n - 64 smtpd\n"
        for address in addresses
    )
    (config / "master.cf").write_text(listeners + MASTER_CF_SERVICES)
    env = {**os.environ, "MAIL_CONFIG": str(config)}
    run = ["postfix", "-c", str(config)]
    subprocess.run([*run, "start"], env=env, check=True, capture_output=True)
    try:
        _wait_listening(addresses, port)
        yield
    finally:
        subprocess.run([*run, "stop"], env=env, capture_output=True)
        _wait_master_gone(root / "queue" / "pid" / "master.pid")


def _wait_listening(addresses: list[str], port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    for address in addresses:
        while True:
            try:
                with socket.create_connection((address, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postfix not listening on {address}:{port}") from None
                time.sleep(0.1)


def _wait_master_gone(pid_file: Path, timeout: float = 20) -> None:
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
