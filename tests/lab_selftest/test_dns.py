"""The lab's DNS server, checked with dnspython."""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from .util import query, resolver


def test_it_answers_mx_and_address_records(lab):
    res = resolver(lab)
    mx = sorted(
        (r.preference, r.exchange.to_text()) for r in res.resolve(lab.domain("verified"), "MX")
    )
    assert mx == [(10, "mx1.verified.lab.test."), (20, "mx2.verified.lab.test.")]
    assert (
        str(res.resolve("mx1.verified.lab.test", "A")[0]) == lab.servers["verified-mx1"]["address"]
    )
    assert str(res.resolve("mx.verified-ipv6.lab.test", "AAAA")[0]) == "::1"
    null = res.resolve(lab.domain("null-mx"), "MX")
    assert [(r.preference, r.exchange.to_text()) for r in null] == [(0, ".")]


def test_it_follows_cname_chains_in_the_answer(lab):
    reply = query(lab, "alias.lab.test", "A")
    assert [rrset.rdtype for rrset in reply.answer] == [
        dns.rdatatype.CNAME,
        dns.rdatatype.CNAME,
        dns.rdatatype.A,
    ]
    assert reply.answer[-1].name.to_text() == "mx1.verified.lab.test."


def test_it_tells_nxdomain_from_nodata_with_soa_in_authority(lab):
    nx = query(lab, lab.domain("nxdomain"), "MX")
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert nx.authority[0].rdtype == dns.rdatatype.SOA
    for name in ("nodata.lab.test", "b.lab.test"):  # b.lab.test: empty non-terminal
        nodata = query(lab, name, "A")
        assert nodata.rcode() == dns.rcode.NOERROR, name
        assert not nodata.answer
        assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    no_mx = query(lab, lab.domain("no-mx-no-address"), "MX")
    assert no_mx.rcode() == dns.rcode.NOERROR and not no_mx.answer
    assert query(lab, "example.com", "A").rcode() == dns.rcode.REFUSED


def test_it_truncates_large_udp_answers_and_answers_them_over_tcp(lab):
    udp = query(lab, "big.lab.test", "TXT", use_edns=0)
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = query(lab, "big.lab.test", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 2
    # dnspython's resolver retries over TCP on TC by itself.
    txt = resolver(lab).resolve(f"_smtp._tls.{lab.domain('tls-rpt-truncated')}", "TXT")
    assert b"".join(txt[0].strings).startswith(b"v=TLSRPTv1; rua=mailto:")


def test_it_sets_ad_only_for_signed_names_when_asked(lab):
    signed = f"mx.{lab.domain('dane-valid')}"
    assert signed.endswith(".sec.lab.test")
    assert query(lab, signed, "A", want_dnssec=True).flags & dns.flags.AD
    assert query(lab, signed, "A", flags=dns.flags.RD | dns.flags.AD).flags & dns.flags.AD
    assert not query(lab, signed, "A").flags & dns.flags.AD
    assert not query(lab, signed, "A", use_edns=0).flags & dns.flags.AD  # EDNS without DO
    do_reply = query(lab, signed, "A", want_dnssec=True)
    assert do_reply.ednsflags & dns.flags.DO
    unsigned = f"mx.{lab.domain('dane-unsigned')}"
    assert not query(lab, unsigned, "A", want_dnssec=True).flags & dns.flags.AD
    tlsa = query(lab, f"_25._tcp.{signed}", "TLSA", want_dnssec=True)
    assert tlsa.answer and tlsa.flags & dns.flags.AD


def test_it_publishes_tlsa_for_port_25_and_the_lab_port(lab):
    host = f"mx.{lab.domain('dane-valid')}"
    for port in (25, lab.smtp_port):
        rrset = resolver(lab).resolve(f"_{port}._tcp.{host}", "TLSA")
        assert (rrset[0].usage, rrset[0].selector, rrset[0].mtype) == (3, 1, 1)


def test_it_answers_servfail_for_fault_names(lab):
    assert query(lab, "servfail.lab.test", "A").rcode() == dns.rcode.SERVFAIL
    domain = lab.domain("unreachable-dns-servfail")
    assert query(lab, domain, "MX").rcode() == dns.rcode.SERVFAIL
    assert query(lab, domain, "A").rcode() == dns.rcode.NOERROR  # only the MX lookup fails


@pytest.mark.parametrize("tcp", [False, True])
def test_it_never_answers_timeout_names(lab, tcp):
    with pytest.raises(dns.exception.Timeout):
        query(lab, "timeout.lab.test", "A", tcp=tcp, timeout=0.3)
    with pytest.raises(dns.exception.Timeout):
        query(lab, lab.domain("unreachable-dns-timeout"), "MX", tcp=tcp, timeout=0.3)


def test_it_counts_queries_in_stats(lab, lab_control):
    resolver(lab).resolve(lab.domain("verified"), "MX")
    query(lab, "big.lab.test", "TXT", use_edns=0)
    dns_stats = lab_control.stats()["dns"]
    assert dns_stats["by_query"]["verified.lab.test MX"] == 1
    assert dns_stats["truncated"] == 1
    assert dns_stats["queries"] == 2
