"""The API's answer shapes, for validation of what it sends and for the OpenAPI description."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Error(Schema):
    detail: str


class Organization(Schema):
    slug: str
    name: str
    kind: str
    province: str
    level: str | None
    warnings: list[str]
    checked_at: str | None
    member: bool
    # How its gateways send, as secmail's receiver observed them: tls, legacy-tls, plaintext,
    # or unknown (never observed: pairs with it are "assumed").
    outbound: str


class Stated(Schema):
    """Comply or explain: the organization's current statement, as the pages show it."""

    kind: str  # explanation (by the organization) or exception (accepted by staff)
    text: str
    target_date: str | None
    created: str


class Domain(Schema):
    domain: str
    active: bool
    level: str | None
    warnings: list[str]
    checked_at: str | None
    since: str | None


class OrganizationDetail(Organization):
    domains: list[Domain]
    explanation: Stated | None
    exception: Stated | None


class DomainResult(Schema):
    """The probe's JSON shape of one domain (level and checked_at null: not checked yet)."""

    domain: str
    organization: str
    level: str | None
    checked_at: str | None
    since: str | None
    warnings: list[str]
    mx: list[dict[str, Any]]
    mta_sts: dict[str, Any]
    dane: dict[str, Any]
    tls_rpt: dict[str, Any]
    error: str | None


class Pair(Schema):
    a: str
    b: str
    level: str | None
    a_to_b: str | None
    b_to_a: str | None
    assumed: bool


class Change(Schema):
    id: int
    at: str
    organization: str
    domain: str
    from_level: str | None
    to_level: str | None
    warnings_added: list[str]
    warnings_removed: list[str]


class _Page(Schema):
    count: int
    page: int
    pages: int


class OrganizationPage(_Page):
    items: list[Organization]


class PairPage(_Page):
    items: list[Pair]


class ChangePage(_Page):
    items: list[Change]
