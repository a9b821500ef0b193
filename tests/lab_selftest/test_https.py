"""MTA-STS policy hosts: per-SNI certificates and per-scenario answers."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest
from cryptography import x509

from .util import resolver


def _get(lab, scenario: str, *, verify: bool = True) -> http.client.HTTPResponse:
    host = f"mta-sts.{lab.domain(scenario)}"
    address = str(resolver(lab).resolve(host, "A")[0])
    ctx = ssl.create_default_context(cafile=lab.ca_bundle)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection((address, lab.https_port), timeout=5)
    conn = http.client.HTTPSConnection(host, lab.https_port, context=ctx, timeout=5)
    conn.sock = ctx.wrap_socket(sock, server_hostname=host)
    conn.request("GET", "/.well-known/mta-sts.txt")
    return conn.getresponse()


def test_it_publishes_the_policy_record_and_host(lab):
    domain = lab.domain("mta-sts-enforce")
    txt = resolver(lab).resolve(f"_mta-sts.{domain}", "TXT")
    assert b"".join(txt[0].strings).startswith(b"v=STSv1; id=")


@pytest.mark.parametrize(
    ("scenario", "mode"),
    [("mta-sts-enforce", "enforce"), ("mta-sts-testing", "testing"), ("mta-sts-none", "none")],
)
def test_it_serves_each_policy_under_a_trusted_certificate(lab, scenario, mode):
    response = _get(lab, scenario)
    body = response.read().decode()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/plain")
    assert "version: STSv1\r\n" in body and f"mode: {mode}\r\n" in body


def test_it_serves_a_policy_whose_mx_does_not_match(lab):
    body = _get(lab, "mta-sts-mx-mismatch").read().decode()
    assert "mx: *.elsewhere.lab.test" in body


def test_it_answers_404_malformed_and_redirect(lab):
    assert _get(lab, "mta-sts-no-policy").status == 404
    assert "version: STSv1" not in _get(lab, "mta-sts-malformed").read().decode()
    redirect = _get(lab, "mta-sts-redirect")
    assert redirect.status == 301
    location = redirect.getheader("Location")
    assert location == (
        f"https://mta-sts.mta-sts-enforce.lab.test:{lab.https_port}/.well-known/mta-sts.txt"
    )


def test_it_serves_the_bad_cert_site_with_an_untrusted_certificate(lab):
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(lab, "mta-sts-bad-cert")
    assert _get(lab, "mta-sts-bad-cert", verify=False).status == 200


def test_it_picks_the_certificate_by_sni(lab):
    address = lab.servers["https-1"]["address"]
    ctx = ssl.create_default_context(cafile=lab.ca_bundle)
    for scenario in ("mta-sts-enforce", "mta-sts-testing"):
        host = f"mta-sts.{lab.domain(scenario)}"
        with (
            socket.create_connection((address, lab.https_port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as sock,
        ):
            leaf = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == [host]
