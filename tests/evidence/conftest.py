"""Fixtures for the evidence room: a lab DNS zone with SPF and DKIM, and a live receiver.

The lab serves, under `evidence.lab.test`:
- `alpha.evidence.lab.test`: SPF authorizes 127.0.0.1 and 127.0.0.2 (Alpha's gateways),
  DKIM key `sel` (Alpha signs with it);
- `charlie.evidence.lab.test`: SPF authorizes 127.0.0.1 only;
- `other.evidence.lab.test`: SPF authorizes 127.0.0.66 (someone else's server), its own key.
A client binds a source address in 127.0.0.0/8 to play a given gateway.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from secmail.devserver import make_receiver_certificate
from tests.lab import LabHandle, WorldSpec, start_lab
from tests.lab.world import RecordSpec

RECEIVER_DOMAIN = "receiver.lab.test"
ALPHA = "alpha.evidence.lab.test"
CHARLIE = "charlie.evidence.lab.test"
OTHER = "other.evidence.lab.test"
SELECTOR = "sel"


@dataclass(frozen=True)
class DkimKeys:
    alpha: bytes  # PEM private keys
    other: bytes


def _rsa_pem_and_record(key: rsa.RSAPrivateKey) -> tuple[bytes, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
    # A TXT string holds at most 255 bytes: split, as zone files do.
    chunks = [text[i : i + 200] for i in range(0, len(text), 200)]
    return pem, " ".join(f'"{chunk}"' for chunk in chunks)


@pytest.fixture(scope="session")
def dkim_keys_and_lab(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DkimKeys, LabHandle]]:
    alpha_key = rsa.generate_private_key(65537, 2048)
    other_key = rsa.generate_private_key(65537, 2048)
    alpha_pem, alpha_record = _rsa_pem_and_record(alpha_key)
    other_pem, other_record = _rsa_pem_and_record(other_key)
    world = WorldSpec(
        name="evidence",
        records=[
            RecordSpec(ALPHA, "TXT", '"v=spf1 ip4:127.0.0.1 ip4:127.0.0.2 -all"'),
            RecordSpec(f"{SELECTOR}._domainkey.{ALPHA}", "TXT", alpha_record),
            RecordSpec(CHARLIE, "TXT", '"v=spf1 ip4:127.0.0.1 -all"'),
            RecordSpec(OTHER, "TXT", '"v=spf1 ip4:127.0.0.66 -all"'),
            RecordSpec(f"{SELECTOR}._domainkey.{OTHER}", "TXT", other_record),
        ],
    )
    handle = start_lab(world, tmp_path_factory.mktemp("evidence-lab"))
    try:
        yield DkimKeys(alpha=alpha_pem, other=other_pem), handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def dkim_keys(dkim_keys_and_lab: tuple[DkimKeys, LabHandle]) -> DkimKeys:
    return dkim_keys_and_lab[0]


@pytest.fixture(scope="session")
def auth_lab(dkim_keys_and_lab: tuple[DkimKeys, LabHandle]) -> LabHandle:
    return dkim_keys_and_lab[1]


@pytest.fixture
def auth_dns(auth_lab: LabHandle) -> Any:
    from monitoring.evidence.auth import AuthDns

    return AuthDns([auth_lab.resolver_address], timeout=3)


@pytest.fixture(scope="session")
def receiver_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for the receiver (senders do not verify it in practice)."""
    folder = tmp_path_factory.mktemp("receiver-cert")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    make_receiver_certificate(cert_path, key_path, f"mx.{RECEIVER_DOMAIN}")
    return str(cert_path), str(key_path)


class RunningReceiver:
    """A Receiver on its own event loop in a thread of the test process (same test database)."""

    def __init__(self, receiver: Any) -> None:
        self.receiver = receiver
        self.loop = asyncio.new_event_loop()
        self.bound: list[tuple[str, int]] = []
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.bound = self.loop.run_until_complete(receiver.start())
            except BaseException as exc:  # surfaced to the test below
                failure.append(exc)
                started.set()
                return
            started.set()
            self.loop.run_forever()
            self.loop.run_until_complete(receiver.close())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="receiver", daemon=True)
        self.thread.start()
        started.wait(10)
        if failure:
            raise failure[0]

    @property
    def host(self) -> str:
        return self.bound[0][0]

    @property
    def port(self) -> int:
        return self.bound[0][1]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def receiver_config(receiver_cert: tuple[str, str]) -> Any:
    from monitoring.evidence.receiver import ReceiverConfig

    return ReceiverConfig(
        domain=RECEIVER_DOMAIN,
        hostname=f"mx.{RECEIVER_DOMAIN}",
        listen=(("127.0.0.1", 0),),
        tls_cert=receiver_cert[0],
        tls_key=receiver_cert[1],
    )


@pytest.fixture
def start_receiver(
    transactional_db: None, settings: Any, receiver_config: Any, auth_dns: Any
) -> Iterator[Any]:
    """Start a receiver (config fields may be overridden); stopped after the test."""
    from monitoring.evidence.receiver import Receiver
    from monitoring.evidence.services import DatabaseBackend

    settings.SECMAIL_RECEIVER_DOMAIN = RECEIVER_DOMAIN
    running: list[RunningReceiver] = []

    def start(**overrides: Any) -> RunningReceiver:
        config = replace(receiver_config, **overrides)
        receiver = RunningReceiver(Receiver(config, DatabaseBackend(resolver=auth_dns)))
        running.append(receiver)
        return receiver

    yield start
    for receiver in running:
        receiver.stop()


@pytest.fixture
def receiver(start_receiver: Any) -> RunningReceiver:
    return start_receiver()


@pytest.fixture
def orgs(transactional_db: None, settings: Any) -> Any:
    """Alpha (domain with SPF for 127.0.0.1-2 and a DKIM key) and Charlie, with test addresses."""
    from monitoring.evidence.services import outbound_address_text
    from partners.models import Kind
    from partners.services import organization_create

    settings.SECMAIL_RECEIVER_DOMAIN = RECEIVER_DOMAIN
    alpha = organization_create(name="Alpha Brokers", kind=Kind.BROKERAGE, domains=(ALPHA,))
    charlie = organization_create(name="Charlie Insurance", kind=Kind.INSURER, domains=(CHARLIE,))

    @dataclass
    class Orgs:
        alpha: Any
        charlie: Any
        alpha_address: str
        charlie_address: str

    return Orgs(
        alpha=alpha,
        charlie=charlie,
        alpha_address=outbound_address_text(organization=alpha),
        charlie_address=outbound_address_text(organization=charlie),
    )
