"""World specifications: the servers, DNS records and expected probe verdicts a lab serves."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ZONE = "lab.test"
# Names at or under this one behave as DNSSEC-signed: answers carry AD when the query asks.
SIGNED = f"sec.{ZONE}"
# Nothing ever listens here: the "connection refused" address.
REFUSED_ADDRESS = "127.0.3.1"
IPV6_ADDRESS = "::1"

NDP = "no-downgrade-protection"
UNTESTED = "address-untested"

LEVELS = ("verified", "encrypted", "partial", "plaintext", "unreachable", "no-mail")

SMTP_BEHAVIORS = (
    "normal",
    "no-starttls",
    "greeting-421",
    "greeting-554",
    "ehlo-rejected",
    "starttls-454",
    "tls-alert",
    "tls-garbage",
    "legacy-only",
    "slow-greeting",
    "drip-feed",
    "endless-multiline",
    "long-line",
    "garbage",
    "reset",
    "close-after-starttls",
    "anonymous-only",
)

# What a plain-HTTP or HTTPS site does instead of answering normally.
HTTP_BEHAVIORS = ("normal", "endless-header", "trickle", "huge-body")

CERT_PROFILES = (
    "valid",
    "valid-wildcard",
    "leaf-only",
    "self-signed",
    "expired",
    "not-yet-valid",
    "wrong-name",
    "untrusted",
    "expiring",
    "weak-key",
    "weak-signature",
    "no-san",
    "rsa-2048",
    "aia-leaf-only",
    "aia-orphan",
)


@dataclass
class CertSpec:
    profile: str
    names: list[str]
    # caIssuers URLs put in the leaf; "{http_port}" is filled in once the port is known.
    aia: list[str] = field(default_factory=list)


@dataclass
class SmtpServerSpec:
    name: str
    address: str
    hostname: str
    certs: list[CertSpec]
    behavior: str = "normal"
    multiline_greeting: bool = False
    requiretls: bool = False


@dataclass
class HttpSiteSpec:
    host: str
    cert: CertSpec
    status: int = 200
    body: str = ""
    # Values may contain "{https_port}", filled in once the port is known.
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/.well-known/mta-sts.txt"
    behavior: str = "normal"


@dataclass
class HttpsServerSpec:
    name: str
    address: str
    sites: list[HttpSiteSpec]
    # False: plain HTTP on the lab's http_port (AIA caIssuers URLs), no TLS.
    tls: bool = True


@dataclass
class RecordSpec:
    name: str
    rdtype: str
    value: str
    ttl: int = 300


@dataclass
class FaultSpec:
    name: str
    rdtype: str  # a type name, or "*" for every type
    fault: str  # "servfail" or "timeout"


@dataclass
class TlsaSpec:
    """A TLSA record computed at start from a server's certificate (published for port 25
    and for the lab's SMTP port); ``match=False`` publishes a digest that matches nothing."""

    host: str
    server: str
    usage: int
    selector: int
    mtype: int
    match: bool = True


@dataclass
class Expect:
    """What a correct probe concludes for a domain, per docs/probe.md.

    ``errors``: the domain error and the address error codes (each code once);
    ``cert_errors``: certificate error codes a correct probe must report (at least these);
    ``errors_exact``: False where docs/probe.md does not fix the code: any non-null address error
    is then right, the listed code is only a suggestion;
    ``warnings_optional``: warnings docs/probe.md leaves open for this case: a correct probe may
    report them or not (``warnings`` lists the ones it must report).
    """

    level: str
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cert_errors: list[str] = field(default_factory=list)
    errors_exact: bool = True
    warnings_optional: list[str] = field(default_factory=list)
    tls_rpt: bool | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "level": self.level,
            "warnings": sorted(set(self.warnings)),
            "errors": sorted(set(self.errors)),
            "cert_errors": sorted(set(self.cert_errors)),
        }
        if not self.errors_exact:
            out["errors_exact"] = False
        if self.warnings_optional:
            out["warnings_optional"] = sorted(set(self.warnings_optional))
        if self.tls_rpt is not None:
            out["tls_rpt"] = self.tls_rpt
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ScenarioSpec:
    name: str
    domain: str
    expect: Expect
    servers: list[str] = field(default_factory=list)


@dataclass
class WorldSpec:
    name: str
    zone: str = ZONE
    signed: list[str] = field(default_factory=list)
    smtp: list[SmtpServerSpec] = field(default_factory=list)
    https: list[HttpsServerSpec] = field(default_factory=list)
    records: list[RecordSpec] = field(default_factory=list)
    faults: list[FaultSpec] = field(default_factory=list)
    tlsa: list[TlsaSpec] = field(default_factory=list)
    scenarios: list[ScenarioSpec] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldSpec:
        def cert(d: dict[str, Any]) -> CertSpec:
            return CertSpec(**d)

        return cls(
            name=data["name"],
            zone=data.get("zone", ZONE),
            signed=list(data.get("signed", [])),
            smtp=[
                SmtpServerSpec(**{**s, "certs": [cert(c) for c in s["certs"]]})
                for s in data.get("smtp", [])
            ],
            https=[
                HttpsServerSpec(
                    name=h["name"],
                    address=h["address"],
                    tls=h.get("tls", True),
                    sites=[
                        HttpSiteSpec(**{**site, "cert": cert(site["cert"])}) for site in h["sites"]
                    ],
                )
                for h in data.get("https", [])
            ],
            records=[RecordSpec(**r) for r in data.get("records", [])],
            faults=[FaultSpec(**f) for f in data.get("faults", [])],
            tlsa=[TlsaSpec(**t) for t in data.get("tlsa", [])],
            scenarios=[
                ScenarioSpec(
                    name=s["name"],
                    domain=s["domain"],
                    expect=Expect(**s["expect"]),
                    servers=list(s.get("servers", [])),
                )
                for s in data.get("scenarios", [])
            ],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: Path) -> WorldSpec:
        return cls.from_json(json.loads(path.read_text()))

    def validate(self) -> None:
        """Fail early on a spec the runtime could not serve."""
        names = [s.name for s in self.smtp] + [h.name for h in self.https]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"server names must be unique: {', '.join(duplicates)}")
        for s in self.smtp:
            if s.behavior not in SMTP_BEHAVIORS:
                raise ValueError(f"{s.name}: unknown behavior {s.behavior!r}")
            for c in s.certs:
                if c.profile not in CERT_PROFILES:
                    raise ValueError(f"{s.name}: unknown certificate profile {c.profile!r}")
        for h in self.https:
            for site in h.sites:
                if site.behavior not in HTTP_BEHAVIORS:
                    raise ValueError(f"{h.name}: unknown site behavior {site.behavior!r}")
        for sc in self.scenarios:
            if sc.expect.level not in LEVELS:
                raise ValueError(f"{sc.name}: unknown level {sc.expect.level!r}")


def _address(block: int, index: int) -> str:
    """The index-th address of a /16-ish block of 127/8, skipping .0 and .255."""
    return f"127.{block + index // 254 // 256}.{(index // 254) % 256}.{index % 254 + 1}"


class WorldBuilder:
    """Helpers that keep the world definitions short and the address plan in one place."""

    def __init__(self, name: str, *, smtp_block: int = 1, zone: str = ZONE) -> None:
        self.world = WorldSpec(name=name, zone=zone)
        self._smtp_index = 0
        self._https_index = 0
        self._http_index = 0
        self._smtp_block = smtp_block
        self.ipv6_used = False

    def next_smtp_address(self) -> str:
        # 127.<block>.x.y; 127.0.0.0/16 stays free for DNS, control, HTTPS and "refused".
        address = _address(self._smtp_block, self._smtp_index)
        self._smtp_index += 1
        return address

    def record(self, name: str, rdtype: str, value: str) -> None:
        self.world.records.append(RecordSpec(name=name, rdtype=rdtype, value=value))

    def smtp(
        self,
        name: str,
        hostname: str,
        *,
        profile: str = "valid",
        cert_names: list[str] | None = None,
        behavior: str = "normal",
        ipv6: bool = False,
        publish: bool = True,
        aia: list[str] | None = None,
        **options: Any,
    ) -> SmtpServerSpec:
        """A server for ``hostname``; publishes its A (or AAAA ::1) record unless told not to."""
        if ipv6:
            if self.ipv6_used:
                raise ValueError("only one server can listen on ::1")
            self.ipv6_used = True
            address = IPV6_ADDRESS
        else:
            address = self.next_smtp_address()
        spec = SmtpServerSpec(
            name=name,
            address=address,
            hostname=hostname,
            certs=[CertSpec(profile=profile, names=cert_names or [hostname], aia=aia or [])],
            behavior=behavior,
            **options,
        )
        self.world.smtp.append(spec)
        if publish:
            self.record(hostname, "AAAA" if ipv6 else "A", address)
        return spec

    def https(self, name: str) -> HttpsServerSpec:
        self._https_index += 1
        spec = HttpsServerSpec(name=name, address=f"127.0.2.{self._https_index}", sites=[])
        self.world.https.append(spec)
        return spec

    def http(self, name: str) -> HttpsServerSpec:
        """A plain-HTTP server (127.0.4.x), as AIA caIssuers URLs point at."""
        self._http_index += 1
        spec = HttpsServerSpec(
            name=name, address=f"127.0.4.{self._http_index}", sites=[], tls=False
        )
        self.world.https.append(spec)
        return spec

    def scenario(
        self, name: str, domain: str, level: str, *, servers: list[str] | None = None, **kw: Any
    ) -> None:
        self.world.scenarios.append(
            ScenarioSpec(
                name=name, domain=domain, expect=Expect(level=level, **kw), servers=servers or []
            )
        )


def _mta_sts_policy(mode: str, *mx: str) -> str:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), "max_age: 604800"]
    return "\r\n".join(lines) + "\r\n"


def standard_world() -> WorldSpec:
    """One domain per scenario of docs/probe.md's levels, warnings and error codes."""
    b = WorldBuilder("standard")
    z = ZONE
    w = b.world
    w.signed = [SIGNED]

    def simple(
        scenario: str,
        level: str,
        *,
        domain: str | None = None,
        profile: str = "valid",
        behavior: str = "normal",
        warnings: tuple[str, ...] = (NDP,),
        aia: list[str] | None = None,
        **kw: Any,
    ) -> str:
        """A domain with one MX host ``mx.<domain>`` on its own server."""
        domain = domain or f"{scenario}.{z}"
        host = f"mx.{domain}"
        b.smtp(scenario, host, profile=profile, behavior=behavior, aia=aia)
        b.record(domain, "MX", f"10 {host}.")
        b.scenario(scenario, domain, level, servers=[scenario], warnings=list(warnings), **kw)
        return domain

    # -- verified ---------------------------------------------------------------------------
    d = f"verified.{z}"
    b.smtp("verified-mx1", f"mx1.{d}", requiretls=True)
    b.smtp("verified-mx2", f"mx2.{d}", multiline_greeting=True)
    b.record(d, "MX", f"10 mx1.{d}.")
    b.record(d, "MX", f"20 mx2.{d}.")
    b.scenario("verified", d, "verified", servers=["verified-mx1", "verified-mx2"], warnings=[NDP])

    d = f"verified-ipv6.{z}"
    b.smtp("verified-ipv6", f"mx.{d}", ipv6=True)
    b.record(d, "MX", f"10 mx.{d}.")
    b.scenario("verified-ipv6", d, "verified", servers=["verified-ipv6"], warnings=[NDP])

    # *.lab.test matches exactly one label: wildmx.lab.test, not a.b.lab.test.
    d = f"verified-wildcard.{z}"
    b.smtp("verified-wildcard", f"wildmx.{z}", profile="valid-wildcard")
    b.record(d, "MX", f"10 wildmx.{z}.")
    b.scenario("verified-wildcard", d, "verified", servers=["verified-wildcard"], warnings=[NDP])

    simple("verified-rsa", "verified", profile="rsa-2048")

    d = f"implicit-mx.{z}"
    b.smtp("implicit-mx", d)
    b.scenario(
        "implicit-mx",
        d,
        "verified",
        servers=["implicit-mx"],
        warnings=[NDP],
        note="no MX RRset: the domain's own A record is the implicit MX (RFC 5321 5.1)",
    )

    # The certificate names the MX host as published, not the CNAME target (RFC 7672 3.2.3).
    d = f"mx-cname.{z}"
    b.smtp("mx-cname", f"relay.{d}", cert_names=[f"mx.{d}"])
    b.record(f"mx.{d}", "CNAME", f"relay.{d}.")
    b.record(d, "MX", f"10 mx.{d}.")
    b.scenario("mx-cname", d, "verified", servers=["mx-cname"], warnings=[NDP])

    # -- encrypted --------------------------------------------------------------------------
    for scenario, profile, cert_error in (
        ("encrypted-self-signed", "self-signed", "self-signed"),
        ("encrypted-expired", "expired", "expired"),
        ("encrypted-not-yet-valid", "not-yet-valid", "not-yet-valid"),
        ("encrypted-wrong-name", "wrong-name", "hostname-mismatch"),
        ("encrypted-untrusted", "untrusted", "untrusted"),
        ("encrypted-incomplete-chain", "leaf-only", "incomplete-chain"),
        ("encrypted-no-san", "no-san", "hostname-mismatch"),
    ):
        simple(scenario, "encrypted", profile=profile, cert_errors=[cert_error])

    d = f"encrypted-cname-target-cert.{z}"
    b.smtp("encrypted-cname-target-cert", f"relay.{d}")
    b.record(f"mx.{d}", "CNAME", f"relay.{d}.")
    b.record(d, "MX", f"10 mx.{d}.")
    b.scenario(
        "encrypted-cname-target-cert",
        d,
        "encrypted",
        servers=["encrypted-cname-target-cert"],
        warnings=[NDP],
        cert_errors=["hostname-mismatch"],
        note="certificate names only the CNAME target; validation uses the MX name as published",
    )

    d = f"encrypted-wildcard-two-labels.{z}"
    b.smtp("encrypted-wildcard-two-labels", f"a.b.{z}", profile="valid-wildcard")
    b.record(d, "MX", f"10 a.b.{z}.")
    b.scenario(
        "encrypted-wildcard-two-labels",
        d,
        "encrypted",
        servers=["encrypted-wildcard-two-labels"],
        warnings=[NDP],
        cert_errors=["hostname-mismatch"],
        note="*.lab.test covers one label only (RFC 6125 6.4.3)",
    )

    # -- partial ----------------------------------------------------------------------------
    for scenario, second, error in (
        ("partial", "no-starttls", "starttls-not-offered"),
        ("partial-legacy", "legacy-only", "tls-legacy-only"),
    ):
        d = f"{scenario}.{z}"
        b.smtp(f"{scenario}-mx1", f"mx1.{d}")
        b.smtp(f"{scenario}-mx2", f"mx2.{d}", behavior=second)
        b.record(d, "MX", f"10 mx1.{d}.")
        b.record(d, "MX", f"20 mx2.{d}.")
        b.scenario(
            scenario,
            d,
            "partial",
            servers=[f"{scenario}-mx1", f"{scenario}-mx2"],
            warnings=[NDP],
            errors=[error],
        )

    # -- plaintext --------------------------------------------------------------------------
    for scenario, behavior, error in (
        ("plaintext", "no-starttls", "starttls-not-offered"),
        ("plaintext-ehlo-rejected", "ehlo-rejected", "ehlo-rejected"),
        ("plaintext-starttls-rejected", "starttls-454", "starttls-rejected"),
        ("plaintext-handshake-failed", "tls-alert", "tls-handshake-failed"),
        ("plaintext-legacy-only", "legacy-only", "tls-legacy-only"),
    ):
        simple(scenario, "plaintext", behavior=behavior, errors=[error])

    # -- untested addresses -----------------------------------------------------------------
    d = f"verified-with-untested.{z}"
    b.smtp("verified-with-untested", f"mx1.{d}")
    b.record(f"mx2.{d}", "A", REFUSED_ADDRESS)
    b.record(d, "MX", f"10 mx1.{d}.")
    b.record(d, "MX", f"20 mx2.{d}.")
    b.scenario(
        "verified-with-untested",
        d,
        "verified",
        servers=["verified-with-untested"],
        warnings=[UNTESTED, NDP],
        errors=["connection-refused"],
    )

    d = f"unreachable-refused.{z}"
    b.record(f"mx.{d}", "A", REFUSED_ADDRESS)
    b.record(d, "MX", f"10 mx.{d}.")
    b.scenario(
        "unreachable-refused",
        d,
        "unreachable",
        warnings=[UNTESTED, NDP],
        errors=["connection-refused"],
    )

    for scenario, behavior, error in (
        ("unreachable-timeout", "slow-greeting", "timeout"),
        ("unreachable-4xx", "greeting-421", "greeting-4xx"),
        ("unreachable-5xx-greeting", "greeting-554", "greeting-5xx"),
    ):
        simple(scenario, "unreachable", behavior=behavior, warnings=(UNTESTED, NDP), errors=[error])

    d = f"unreachable-no-address.{z}"
    b.record(d, "MX", f"10 mx.{d}.")  # mx.<domain> does not exist: NXDOMAIN for its A/AAAA
    b.scenario(
        "unreachable-no-address",
        d,
        "unreachable",
        warnings=[UNTESTED, NDP],
        errors=["no-address"],
        note="an MX RRset is never replaced by the domain's own addresses",
    )

    # A decoy listens on the domain's own A record: a probe that falls back to the implicit MX
    # when the MX lookup fails, or on a null MX, shows up in the decoy's stats.
    for scenario, fault, error in (
        ("unreachable-dns-servfail", "servfail", "dns-servfail"),
        ("unreachable-dns-timeout", "timeout", "dns-timeout"),
    ):
        d = f"{scenario}.{z}"
        b.smtp(f"{scenario}-decoy", d)
        w.faults.append(FaultSpec(name=d, rdtype="MX", fault=fault))
        b.scenario(
            scenario,
            d,
            "unreachable",
            servers=[f"{scenario}-decoy"],
            errors=[error],
            warnings_optional=[NDP],
            note="only the MX query fails; nothing publishes MTA-STS or DANE, but the rules do"
            " not say whether a domain whose MX lookup failed carries warnings",
        )

    # -- no-mail ----------------------------------------------------------------------------
    b.scenario("nxdomain", f"nxdomain.{z}", "no-mail", errors=["nxdomain"])
    d = f"null-mx.{z}"
    b.smtp("null-mx-decoy", d)
    b.record(d, "MX", "0 .")
    b.scenario(
        "null-mx",
        d,
        "no-mail",
        servers=["null-mx-decoy"],
        errors=["null-mx"],
        note="RFC 7505: the A record beside a null MX is not an implicit MX",
    )
    d = f"no-mx-no-address.{z}"
    b.record(d, "TXT", '"v=spf1 -all"')
    b.scenario("no-mx-no-address", d, "no-mail", errors=["no-mx-no-address"])

    # -- certificate warnings ---------------------------------------------------------------
    simple("cert-expiring", "verified", profile="expiring", warnings=("cert-expiring", NDP))
    simple(
        "weak-key",
        "verified",
        profile="weak-key",
        warnings=("weak-key", NDP),
        cert_errors=["weak-key"],
        note="cryptography's web PKI verifier accepts an RSA-1024 leaf: a warning, not a failure",
    )
    simple(
        "weak-signature",
        "encrypted",
        profile="weak-signature",
        warnings=("weak-signature", NDP),
        cert_errors=["weak-signature"],
        note="cryptography's web PKI verifier rejects a SHA-1 signature: validation fails",
    )

    # -- MTA-STS ----------------------------------------------------------------------------
    good_sts = b.https("https-1")
    bad_sts = b.https("https-2")
    sts_id = "v=STSv1; id=20261123T000000;"
    policy_path = "/.well-known/mta-sts.txt"

    def sts(
        scenario: str,
        *,
        warnings: tuple[str, ...],
        status: int = 200,
        body: str | None = None,
        mode: str = "enforce",
        mx: tuple[str, ...] | None = None,
        headers: dict[str, str] | None = None,
        server: HttpsServerSpec = good_sts,
        cert: str = "valid",
        behavior: str = "normal",
        **kw: Any,
    ) -> None:
        d = simple(scenario, "verified", warnings=warnings, **kw)
        host = f"mta-sts.{d}"
        b.record(f"_mta-sts.{d}", "TXT", f'"{sts_id}"')
        b.record(host, "A", server.address)
        if body is None:
            body = _mta_sts_policy(mode, *(mx or (f"mx.{d}",)))
        server.sites.append(
            HttpSiteSpec(
                host=host,
                cert=CertSpec(profile=cert, names=[host]),
                status=status,
                body=body,
                headers=headers or {},
                behavior=behavior,
            )
        )

    sts("mta-sts-enforce", warnings=())
    sts(
        "mta-sts-testing",
        mode="testing",
        mx=(f"*.mta-sts-testing.{z}",),
        warnings=("mta-sts-testing", NDP),
    )
    sts("mta-sts-none", mode="none", mx=(), warnings=(NDP,))
    sts("mta-sts-no-policy", status=404, body="not found\n", warnings=("mta-sts-invalid", NDP))
    sts("mta-sts-bad-cert", server=bad_sts, cert="self-signed", warnings=("mta-sts-invalid", NDP))
    sts("mta-sts-mx-mismatch", mx=(f"*.elsewhere.{z}",), warnings=("mta-sts-invalid", NDP))
    sts(
        "mta-sts-redirect",
        status=301,
        body="moved\n",
        headers={"Location": f"https://mta-sts.mta-sts-enforce.{z}:{{https_port}}{policy_path}"},
        warnings=("mta-sts-invalid", NDP),
        note="RFC 8461 3.3: the policy fetch must not follow redirects",
    )
    sts(
        "mta-sts-malformed",
        body="<html><body>this is not a policy</body></html>\n",
        warnings=("mta-sts-invalid", NDP),
    )

    for behavior in ("endless-header", "trickle", "huge-body"):
        sts(
            f"mta-sts-{behavior}",
            behavior=behavior,
            warnings=("mta-sts-invalid", NDP),
            note="a hostile policy host: the policy is invalid, the rest of the batch unharmed",
        )

    # -- DANE -------------------------------------------------------------------------------
    for scenario, usage, selector, match, warnings in (
        ("dane-valid", 3, 1, True, ()),
        ("dane-usage2", 2, 0, True, ()),
        ("dane-mismatch", 3, 1, False, ("dane-mismatch", NDP)),
    ):
        d = simple(scenario, "verified", domain=f"{scenario}.{SIGNED}", warnings=warnings)
        w.tlsa.append(
            TlsaSpec(
                host=f"mx.{d}",
                server=scenario,
                usage=usage,
                selector=selector,
                mtype=1,
                match=match,
            )
        )
    d = simple(
        "dane-unsigned",
        "verified",
        warnings=(NDP,),
        note="TLSA from an unsigned zone (no AD) is ignored (RFC 7672 2.2)",
    )
    w.tlsa.append(TlsaSpec(host=f"mx.{d}", server="dane-unsigned", usage=3, selector=1, mtype=1))

    # Signed TLSA behind an unsigned MX answer: a forged MX would bring its own TLSA, so DANE
    # does not apply (RFC 7672 2.2.1).
    d = f"dane-insecure-mx.{z}"
    host = f"mx.dane-insecure-mx.{SIGNED}"
    b.smtp("dane-insecure-mx", host)
    b.record(d, "MX", f"10 {host}.")
    b.scenario(
        "dane-insecure-mx",
        d,
        "verified",
        servers=["dane-insecure-mx"],
        warnings=[NDP],
        note="TLSA is signed but the MX answer is not: DANE does not apply (RFC 7672 2.2.1)",
    )
    w.tlsa.append(TlsaSpec(host=host, server="dane-insecure-mx", usage=3, selector=1, mtype=1))

    # -- TLS-RPT ----------------------------------------------------------------------------
    d = simple("tls-rpt", "verified", tls_rpt=True)
    b.record(f"_smtp._tls.{d}", "TXT", f'"v=TLSRPTv1; rua=mailto:tlsrpt@{d}"')
    d = simple("tls-rpt-bad", "verified", tls_rpt=False, note="v=TLSRPTv1 without rua")
    b.record(f"_smtp._tls.{d}", "TXT", '"v=TLSRPTv1;"')
    # A TXT answer larger than any UDP payload: the probe only gets it with the TCP fallback.
    d = simple("tls-rpt-truncated", "verified", tls_rpt=True, note="TXT answer needs TCP (TC)")
    ruas = ",".join(f"mailto:tlsrpt-{i:03d}@reports.{d}" for i in range(40))
    chunks = [ruas[i : i + 200] for i in range(0, len(ruas), 200)]
    b.record(f"_smtp._tls.{d}", "TXT", " ".join(f'"{c}"' for c in ["v=TLSRPTv1; rua=", *chunks]))

    # -- hostile servers, each the only MX of its domain ------------------------------------
    simple(
        "hostile-drip-feed",
        "unreachable",
        behavior="drip-feed",
        warnings=(UNTESTED, NDP),
        errors=["timeout"],
        note="the 220 greeting line never ends: no greeting, untested",
    )
    simple(
        "hostile-garbage",
        "unreachable",
        behavior="garbage",
        warnings=(UNTESTED, NDP),
        errors=["invalid-reply"],
        errors_exact=False,
        note="binary garbage instead of a greeting: no 220 greeting, untested",
    )
    simple(
        "hostile-reset",
        "unreachable",
        behavior="reset",
        warnings=(UNTESTED, NDP),
        errors=["connection-reset"],
        errors_exact=False,
        note="RST right after accept: no greeting, untested",
    )
    simple(
        "hostile-endless-multiline",
        "plaintext",
        behavior="endless-multiline",
        errors=["reply-too-long"],
        errors_exact=False,
        note="220 greeting then an EHLO reply of 250- lines that never ends: tested, no TLS",
    )
    simple(
        "hostile-long-line",
        "plaintext",
        behavior="long-line",
        errors=["reply-too-long"],
        errors_exact=False,
        note="220 greeting then megabytes without CRLF after EHLO: tested, no TLS",
    )
    simple(
        "hostile-close-after-starttls",
        "plaintext",
        behavior="close-after-starttls",
        errors=["tls-handshake-failed"],
    )

    simple(
        "plaintext-anonymous-only",
        "plaintext",
        behavior="anonymous-only",
        errors=["tls-handshake-failed"],
        note="TLS completes only with anonymous (aNULL) suites, which mainstream senders never"
        " offer: no working STARTTLS",
    )

    # -- hostile AIA answers: the leaf's issuer is presented by no server, so the probe
    # fetches its caIssuers URL; whatever the URL or its server does, only that chain stays
    # unexplained (untrusted) and every other domain of the batch keeps its result.
    aia_server = b.http("http-aia")
    aia_host = f"aia.{z}"
    b.record(aia_host, "A", aia_server.address)
    aia_base = f"http://{aia_host}:{{http_port}}"
    for path, behavior, body in (
        ("/aia-inter.pem", "normal", "{aia_intermediate_pem}"),
        ("/endless-header", "endless-header", ""),
        ("/trickle", "trickle", ""),
        ("/huge-body", "huge-body", ""),
    ):
        aia_server.sites.append(
            HttpSiteSpec(
                host=aia_host,
                cert=CertSpec(profile="valid", names=[aia_host]),
                path=path,
                behavior=behavior,
                body=body,
            )
        )
    simple(
        "aia-fetched",
        "encrypted",
        profile="aia-leaf-only",
        aia=[f"{aia_base}/aia-inter.pem"],
        cert_errors=["incomplete-chain"],
        note="the missing intermediate is fetched from the caIssuers URL: incomplete, not unknown",
    )
    for scenario, urls in (
        ("aia-malformed-bracket", ["http://[evil/"]),
        (
            "aia-malformed-other",
            [
                f"http://{aia_host}:99999/x",
                f"http://{aia_host}:port/x",
                "http://exa mple.lab.test/x",
                "http://%zz%/x",
                "http://user@/x",
                "http://" + "a" * 3000 + "/x",
            ],
        ),
        ("aia-endless-header", [f"{aia_base}/endless-header"]),
        ("aia-trickle", [f"{aia_base}/trickle"]),
        ("aia-huge-body", [f"{aia_base}/huge-body"]),
    ):
        simple(
            scenario,
            "encrypted",
            profile="aia-orphan",
            aia=urls,
            cert_errors=["untrusted"],
            note="the caIssuers URL or its server is hostile: the intermediate stays missing",
        )

    # -- DNS oddities outside any scenario --------------------------------------------------
    w.faults.append(FaultSpec(name=f"servfail.{z}", rdtype="*", fault="servfail"))
    w.faults.append(FaultSpec(name=f"timeout.{z}", rdtype="*", fault="timeout"))
    b.record(f"big.{z}", "TXT", " ".join(f'"{"x" * 200}-{i}"' for i in range(12)))
    b.record(f"big.{z}", "TXT", '"second record"')
    b.record(f"alias.{z}", "CNAME", f"alias2.{z}.")
    b.record(f"alias2.{z}", "CNAME", f"mx1.verified.{z}.")
    b.record(f"nodata.{z}", "TXT", '"only a TXT record"')
    b.record(f"www.{SIGNED}", "A", "127.0.0.1")
    return w


def bulk_world(
    n_domains: int,
    *,
    distinct_mx_hosts: bool,
    n_addresses: int = 8,
    n_shared_hosts: int = 100,
) -> WorldSpec:
    """Many verified domains for benchmarks.

    ``distinct_mx_hosts=True``: domain i has its own MX host ``mx<i>.hosted.lab.test``, the
    hosts spread over ``n_addresses`` servers with a ``*.hosted.lab.test`` certificate (a hosted
    provider). ``False``: the domains share ``n_shared_hosts`` MX hosts
    ``mx<j>.shared.lab.test``, spread likewise (pass ``n_addresses=n_shared_hosts`` for one
    address per host).
    """
    kind = "distinct" if distinct_mx_hosts else "shared"
    b = WorldBuilder(f"bulk-{kind}-{n_domains}", smtp_block=10)
    sub = f"hosted.{ZONE}" if distinct_mx_hosts else f"shared.{ZONE}"
    servers = [
        b.smtp(f"{kind}-{k}", f"{kind}-{k}.{sub}", cert_names=[f"*.{sub}"], publish=False)
        for k in range(n_addresses)
    ]
    n_hosts = n_domains if distinct_mx_hosts else min(n_shared_hosts, n_domains)
    for j in range(n_hosts):
        b.record(f"mx{j}.{sub}", "A", servers[j % n_addresses].address)
    for i in range(n_domains):
        d = f"d{i}.bulk.{ZONE}"
        j = i if distinct_mx_hosts else i % n_hosts
        b.record(d, "MX", f"10 mx{j}.{sub}.")
        b.scenario(
            f"bulk-{i}", d, "verified", servers=[servers[j % n_addresses].name], warnings=[NDP]
        )
    return b.world


# The `make run` demo: each demo organization's domain borrows the MX hosts of a standard
# scenario, so a newcomer sees a realistic mix of levels with no internet access.
DEMO_DOMAINS: dict[str, tuple[str, ...]] = {
    "maplemutual": ("mx1.verified", "mx2.verified"),
    "maple-mutual": ("mx.cert-expiring",),
    "laurentiangeneral": ("mx.verified-rsa",),
    "prairieshield": ("mx.encrypted-self-signed",),
    "pacificharbour": ("wildmx",),
    "atlanticanchor": ("mx1.partial", "mx2.partial"),
    "rideaubrokers": ("mx.plaintext",),
    "courtage-stlaurent": ("mx1.verified", "mx2.verified"),
    "chinookbrokers": ("mx.encrypted-expired",),
    "redriverbrokerage": ("mx.verified-rsa",),
    "fundycoast": ("mx1.partial-legacy", "mx2.partial-legacy"),
    "islandcover": ("mx.unreachable-refused",),
    "northernlights": ("mx.plaintext-starttls-rejected",),
}


def demo_world() -> WorldSpec:
    """The standard world plus `<name>.demo.lab.test` domains whose MX are its servers."""
    world = standard_world()
    world.name = "demo"
    hosts = {server.hostname for server in world.smtp}
    hosts |= {r.name for r in world.records if r.rdtype in ("A", "AAAA")}
    for name, mx_hosts in DEMO_DOMAINS.items():
        for preference, prefix in enumerate(mx_hosts, start=1):
            host = f"{prefix}.{ZONE}"
            if host not in hosts:
                raise ValueError(f"demo domain {name} points at unknown MX host {host}")
            world.records.append(
                RecordSpec(f"{name}.demo.{ZONE}", "MX", f"{preference * 10} {host}.")
            )
    return world


def world_by_name(name: str) -> WorldSpec:
    """ "standard", "demo", "bulk-distinct-N", "bulk-shared-N", or a path to a world JSON file."""
    if name == "standard":
        return standard_world()
    if name == "demo":
        return demo_world()
    for kind in ("distinct", "shared"):
        prefix = f"bulk-{kind}-"
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return bulk_world(int(name[len(prefix) :]), distinct_mx_hosts=kind == "distinct")
    path = Path(name)
    if path.suffix == ".json" and path.exists():
        return WorldSpec.load(path)
    raise ValueError(f"unknown world {name!r}")
