"""A missing intermediate fetched from the leaf's caIssuers URL tells incomplete from unknown."""

from __future__ import annotations

import asyncio
import http.server
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7

from monitoring.probe import ProbeConfig, certs
from monitoring.probe.aia import ca_issuer_urls, parse_issuers
from monitoring.probe.engine import Batch
from monitoring.probe.smtp import Dialogue
from tests.probe.chains import DAY, NOW, der, make


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    root = make("AIA Root", keys[0], ca=True, start=NOW - 900 * DAY, end=NOW + 900 * DAY)
    inter = make(
        "AIA Inter", keys[1], root, keys[0], ca=True, start=NOW - 400 * DAY, end=NOW + 400 * DAY
    )
    bundle = tmp_path_factory.mktemp("aia") / "bundle.pem"
    bundle.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return {"keys": keys, "root": root, "inter": inter, "bundle": str(bundle)}


@pytest.fixture
def issuer_server(pki):
    """Serves the intermediate as DER on a loopback port, counting requests."""
    body = der(pki["inter"])[0]
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            status = 200 if self.path == "/inter.der" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/pkix-cert")
            self.send_header("Content-Length", str(len(body) if status == 200 else 0))
            self.end_headers()
            if status == 200:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def leaf_only(pki, url):
    return make("mx.aia.test", pki["keys"][2], pki["inter"], pki["keys"][1], aia=url)


def judged_after_chase(pki, chain_der, **overrides):
    """The chain judged after the AIA chase; the loopback issuer server needs allow_nonpublic."""
    values = dict(
        ca_bundle=pki["bundle"],
        resolvers=(("127.0.0.1", 9),),
        probe_timeout=3,
        allow_nonpublic=True,
    )
    values.update(overrides)
    config = ProbeConfig(**values)

    async def run():
        batch = Batch(config)
        batch.pool = certs.IntermediatePool()  # this test's own, not the process-wide one
        done = asyncio.get_running_loop().create_future()
        done.set_result(Dialogue(ip="192.0.2.1", chain_der=chain_der))
        batch._dialogues[("mx.aia.test", "192.0.2.1")] = done
        await batch.chase_missing_issuers()
        batch.resolver.close()
        return certs.analyze(chain_der, "mx.aia.test", batch.trust, NOW, batch.pool)

    return asyncio.run(run())


def test_it_reads_der_pem_and_pkcs7(pki):
    inter = pki["inter"]
    assert parse_issuers(der(inter)[0]) == [inter]
    assert parse_issuers(inter.public_bytes(serialization.Encoding.PEM)) == [inter]
    bundle = pkcs7.serialize_certificates([inter], serialization.Encoding.DER)
    assert parse_issuers(bundle) == [inter]
    assert parse_issuers(b"<html>not a certificate</html>") == []


def test_a_fetched_intermediate_makes_the_chain_incomplete_not_untrusted(pki, issuer_server):
    base, requests = issuer_server
    leaf = leaf_only(pki, f"{base}/inter.der")
    assert ca_issuer_urls(leaf) == [f"{base}/inter.der"]
    info, valid = judged_after_chase(pki, der(leaf))
    assert valid is False  # a sending MTA does not fetch it, so the level stays encrypted
    assert info.errors == ("incomplete-chain",)
    assert requests == ["/inter.der"]


def test_an_unfetchable_issuer_stays_untrusted(pki, issuer_server):
    base, requests = issuer_server
    info, valid = judged_after_chase(pki, der(leaf_only(pki, f"{base}/missing.der")))
    assert (valid, info.errors) == (False, ("untrusted",))
    assert requests == ["/missing.der"]


def test_a_complete_chain_fetches_nothing(pki, issuer_server):
    base, requests = issuer_server
    info, valid = judged_after_chase(pki, der(leaf_only(pki, f"{base}/inter.der"), pki["inter"]))
    assert valid is True
    assert requests == []
