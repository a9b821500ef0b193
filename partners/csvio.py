"""Bulk import and export of the partner registry as CSV, all or nothing, safe to re-run.

Columns: organization,kind,province,domains,contacts,partners. Lists inside a cell are
separated by ";": domains (`example.ca;example.com`), contacts (`Jane Roy <jane@example.ca>` or a
bare address) and partners (organization names). Import upserts organizations by slug and
domains by name; it never deletes or moves anything.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from partners.domains import InvalidDomain, normalize_domain
from partners.models import (
    Contact,
    Kind,
    MailDomain,
    Organization,
    Partnership,
    Province,
    validate_organization_name,
)
from partners.services import canonical_pair, organization_slug

COLUMNS = ("organization", "kind", "province", "domains", "contacts", "partners")
MAX_IMPORT_BYTES = 10 * 1024 * 1024
_CONTACT = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>$")
_BATCH = 1000
ORGANIZATION_NAME_MAX = Organization._meta.get_field("name").max_length
_IMPORT_LOCK = 0x5EC0_1A11  # the advisory lock key of registry imports (any constant will do)
# The contact email column: 254, RFC 5321's limit on an address (a path is 256 octets).
MAX_EMAIL_LENGTH = Contact._meta.get_field("email").max_length
# A spreadsheet reads a cell starting with one of these as a formula (tab and CR too, since some
# strip them first). Such a cell is written with a leading "'", which spreadsheets take as "this
# is text" and hide; apostrophes already in front count, so that import can undo it exactly.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    domains_created: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    partnerships_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line: int, message: str) -> None:
        self.errors.append(RowError(line, message))

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s); nothing was imported"
        prefix = "dry run, nothing written: " if self.dry_run else ""
        return (
            f"{prefix}organizations: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; created {self.domains_created} domains, "
            f"{self.contacts_created} contacts, {self.partnerships_created} partnerships; "
            f"updated {self.contacts_updated} contacts"
        )


@dataclass
class _Row:
    line: int
    name: str
    slug: str
    kind: str
    province: str
    domains: list[str]
    contacts: list[tuple[str, str]]  # (name, email)
    partners: list[tuple[str, str]]  # (slug, name as written)


@dataclass
class _Registry:
    """What the database holds, loaded once so that validation and planning need no queries."""

    org_by_slug: dict[str, Organization]
    domain_owner: dict[str, int]  # domain name -> organization id
    contacts: dict[tuple[int, str], Contact]  # (organization id, lowercased email)
    pairs: set[tuple[int, int]]

    @classmethod
    def load(cls) -> _Registry:
        orgs = {org.slug: org for org in Organization.objects.all()}
        return cls(
            org_by_slug=orgs,
            domain_owner=dict(MailDomain.objects.values_list("name", "organization_id")),
            contacts={(c.organization_id, c.email.lower()): c for c in Contact.objects.all()},
            pairs=set(Partnership.objects.values_list("org_a_id", "org_b_id")),
        )


def spreadsheet_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def spreadsheet_row(row: Iterable[object]) -> list[object]:
    return [spreadsheet_cell(value) for value in row]


class SpreadsheetWriter:
    """A csv.writer for every CSV secmail writes: each cell goes through spreadsheet_cell, so
    no name, HELO or reporter a member or a stranger chose reaches a spreadsheet as a formula."""

    def __init__(self, stream: Any, *, lineterminator: str = "\n") -> None:
        self._writer = csv.writer(stream, lineterminator=lineterminator)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(spreadsheet_row(row))


def from_spreadsheet_cell(cell: str) -> str:
    """Undo spreadsheet_cell, so that an exported file imports back unchanged."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def import_partners(fileobj: IO[Any], *, dry_run: bool = False) -> ImportReport:
    """Validate every row, then write all of them or nothing; the report lists each bad line."""
    report = ImportReport(dry_run=dry_run)
    text = _read_text(fileobj, report)
    if text is None:
        return report
    rows, named = _parse(text, report)
    try:
        with transaction.atomic():
            _serialize_imports()
            registry = _Registry.load()
            _check_references(rows, named, registry, report)
            if report.errors:
                report.errors.sort(key=lambda error: error.line)
                return report
            _apply(rows, registry, report, write=not dry_run)
    except IntegrityError:
        # Only a writer outside imports (the admin, a form) can still race us here.
        report = ImportReport(dry_run=dry_run)
        report.error(0, "the registry changed while importing; nothing was imported, try again")
    return report


def _serialize_imports() -> None:
    """Let one import at a time read and write the registry, until its transaction ends.

    Two imports creating the same new organization would otherwise both plan to insert it, and
    the second would fail on the unique slug. PostgreSQL: a transaction-level advisory lock.
    SQLite: settings open every transaction IMMEDIATE, which already takes the write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])


def _read_text(fileobj: IO[Any], report: ImportReport) -> str | None:
    data = fileobj.read(MAX_IMPORT_BYTES + 1)
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            report.error(0, f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
            return None
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            report.error(line, "the file is not UTF-8 text (save it as 'CSV UTF-8')")
            return None
    elif len(data.encode("utf-8")) > MAX_IMPORT_BYTES:
        report.error(0, f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
        return None
    return data.removeprefix("\ufeff")


def _parse(text: str, report: ImportReport) -> tuple[list[_Row], set[str]]:
    """The valid rows, and the slug of every organization the file has a row for.

    The second lets a partner named on a row that has its own errors count as known, so that
    one bad row does not cause a cascade of errors on the others.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        report.error(1, "the file is empty; the first line must be " + ",".join(COLUMNS))
        return [], set()
    except csv.Error as exc:
        report.error(1, f"unreadable CSV: {exc}")
        return [], set()
    names = [cell.strip().lower() for cell in header]
    if names != list(COLUMNS):
        missing = [c for c in COLUMNS if c not in names]
        unknown = [c for c in names if c not in COLUMNS]
        if not set(names) & set(COLUMNS):
            reason = "missing header"
        elif missing or unknown:
            reason = "wrong columns"
            reason += f"; missing: {', '.join(missing)}" if missing else ""
            reason += f"; unknown: {', '.join(unknown)}" if unknown else ""
        else:
            reason = "columns in the wrong order"
        report.error(1, f"{reason}; the first line must be exactly {','.join(COLUMNS)}")
        return [], set()

    rows: list[_Row] = []
    named: set[str] = set()
    first_line_of_slug: dict[str, int] = {}
    first_line_of_domain: dict[str, int] = {}
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.error(start, f"unreadable CSV: {exc}")
            break
        line = start
        cells = [from_spreadsheet_cell(cell) for cell in cells]
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(COLUMNS):
            report.error(line, f"expected {len(COLUMNS)} columns, found {len(cells)}")
            continue
        named.add(_slug_of(cells[0]))
        row = _parse_row(line, dict(zip(COLUMNS, cells, strict=True)), report)
        if row is None:
            continue
        if row.slug in first_line_of_slug:
            report.error(
                line,
                f"organization {row.name!r} already appears on line {first_line_of_slug[row.slug]}",
            )
            continue
        first_line_of_slug[row.slug] = line
        for domain in row.domains:
            if domain in first_line_of_domain:
                report.error(
                    line, f"domain {domain} is also listed on line {first_line_of_domain[domain]}"
                )
            else:
                first_line_of_domain[domain] = line
        rows.append(row)
    named.discard("")
    return rows, named


def _parse_row(line: int, cells: dict[str, str], report: ImportReport) -> _Row | None:
    errors_before = len(report.errors)
    name = " ".join(cells["organization"].split())
    slug = ""
    # The registry's own rules (partners.models and partners.services), not a copy of them.
    try:
        validate_organization_name(name)
        if len(name) > ORGANIZATION_NAME_MAX:
            raise ValidationError(
                f"organization name is longer than {ORGANIZATION_NAME_MAX} characters"
            )
        slug = organization_slug(name)
    except ValidationError as exc:
        report.error(line, f"organization {name!r}: {' '.join(exc.messages)}")

    kind = cells["kind"].strip().lower()
    if kind not in Kind.values:
        report.error(line, f"kind {kind!r} is not one of {', '.join(Kind.values)}")

    province = cells["province"].strip().upper()
    if province and province not in Province.values:
        report.error(line, f"province {province!r} is not one of {', '.join(Province.values)}")

    domains: list[str] = []
    for raw in _split(cells["domains"]):
        try:
            domain = normalize_domain(raw)
        except InvalidDomain as exc:
            reason = str(exc)
            # Most reasons already quote the name; do not say it twice.
            report.error(
                line, f"domain {reason}" if repr(raw) in reason else f"domain {raw!r}: {reason}"
            )
            continue
        if domain in domains:
            report.error(line, f"domain {domain} is listed twice")
        else:
            domains.append(domain)

    contacts: list[tuple[str, str]] = []
    seen_emails: set[str] = set()
    for raw in _split(cells["contacts"]):
        match = _CONTACT.match(raw)
        contact_name, email = (
            (match["name"].strip(), match["email"].strip()) if match else ("", raw)
        )
        if len(email) > MAX_EMAIL_LENGTH:
            report.error(
                line, f"contact {raw[:60]!r}...: the address is longer than {MAX_EMAIL_LENGTH}"
            )
            continue
        try:
            validate_email(email)
        except ValidationError:
            report.error(line, f"contact {raw!r}: {email!r} is not a valid email address")
            continue
        if len(contact_name) > 200:
            report.error(line, f"contact {raw!r}: the name is longer than 200 characters")
            continue
        if email.lower() in seen_emails:
            report.error(line, f"contact {email} is listed twice")
            continue
        seen_emails.add(email.lower())
        contacts.append((contact_name, email))

    partners: list[tuple[str, str]] = []
    for raw in _split(cells["partners"]):
        partner = _slug_of(raw)
        if not partner:
            report.error(line, f"partner {raw!r} is not an organization name")
        elif partner == slug:
            report.error(line, f"{name!r} cannot be its own partner")
        elif partner not in {known for known, _ in partners}:
            partners.append((partner, raw))

    if len(report.errors) > errors_before:
        return None
    return _Row(line, name, slug, kind, province, domains, contacts, partners)


def _slug_of(name: str) -> str:
    """The slug an organization written this way has ("" when it cannot have one)."""
    try:
        return organization_slug(" ".join(name.split()))
    except ValidationError:
        return ""


def _split(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def _check_references(
    rows: list[_Row], in_file: set[str], registry: _Registry, report: ImportReport
) -> None:
    slug_of_id = {org.pk: slug for slug, org in registry.org_by_slug.items()}
    for row in rows:
        for domain in row.domains:
            owner_id = registry.domain_owner.get(domain)
            if owner_id is not None and slug_of_id.get(owner_id) != row.slug:
                owner = registry.org_by_slug[slug_of_id[owner_id]]
                report.error(row.line, f"domain {domain} belongs to {owner.name!r} in the registry")
        for partner, written in row.partners:
            if partner not in in_file and partner not in registry.org_by_slug:
                report.error(
                    row.line, f"partner {written!r} is neither in this file nor in the registry"
                )


def _apply(rows: list[_Row], registry: _Registry, report: ImportReport, *, write: bool) -> None:
    now = timezone.now()
    new_orgs: list[Organization] = []
    changed_orgs: list[Organization] = []
    touched: set[str] = set()
    for row in rows:
        org = registry.org_by_slug.get(row.slug)
        if org is None:
            new_orgs.append(
                Organization(name=row.name, slug=row.slug, kind=row.kind, province=row.province)
            )
            continue
        if (org.name, org.kind, org.province) != (row.name, row.kind, row.province):
            org.name, org.kind, org.province, org.updated = row.name, row.kind, row.province, now
            changed_orgs.append(org)
            touched.add(row.slug)
    report.created = len(new_orgs)
    if write:
        Organization.objects.bulk_create(new_orgs, batch_size=_BATCH)
        Organization.objects.bulk_update(
            changed_orgs, ["name", "kind", "province", "updated"], batch_size=_BATCH
        )
    # Ids of new organizations: bulk_create does not return them on every database.
    id_of: dict[str, int | None] = {slug: org.pk for slug, org in registry.org_by_slug.items()}
    if write and new_orgs:
        id_of.update(Organization.objects.values_list("slug", "id"))
    else:
        id_of.update({org.slug: None for org in new_orgs})

    new_domains: list[MailDomain] = []
    new_contacts: list[Contact] = []
    renamed_contacts: list[Contact] = []
    new_pairs: set[frozenset[str]] = set()
    existing_pairs = {
        frozenset((slug_a, slug_b))
        for slug_a, slug_b in _pairs_as_slugs(registry.pairs, registry.org_by_slug)
    }
    for row in rows:
        org_id = id_of[row.slug]
        for domain in row.domains:
            if domain not in registry.domain_owner:
                new_domains.append(MailDomain(organization_id=org_id, name=domain))
                touched.add(row.slug)
        for contact_name, email in row.contacts:
            existing = registry.contacts.get((org_id, email.lower())) if org_id else None
            if existing is None:
                new_contacts.append(Contact(organization_id=org_id, name=contact_name, email=email))
                touched.add(row.slug)
            elif (existing.name, existing.email) != (contact_name, email):
                existing.name, existing.email, existing.updated = contact_name, email, now
                renamed_contacts.append(existing)
                touched.add(row.slug)
        for partner, _ in row.partners:
            pair = frozenset((row.slug, partner))
            if pair not in existing_pairs and pair not in new_pairs:
                new_pairs.add(pair)
                touched.update(pair)

    report.domains_created = len(new_domains)
    report.contacts_created = len(new_contacts)
    report.contacts_updated = len(renamed_contacts)
    report.partnerships_created = len(new_pairs)
    new_slugs = {org.slug for org in new_orgs}
    report.updated = len((touched - new_slugs) & {row.slug for row in rows})
    report.unchanged = len(rows) - report.created - report.updated
    if not write:
        return
    MailDomain.objects.bulk_create(new_domains, batch_size=_BATCH)
    Contact.objects.bulk_create(new_contacts, batch_size=_BATCH)
    Contact.objects.bulk_update(renamed_contacts, ["name", "email", "updated"], batch_size=_BATCH)
    partnerships = []
    for pair in new_pairs:
        a_id, b_id = canonical_pair(*(id_of[slug] for slug in pair))  # type: ignore[misc]
        partnerships.append(Partnership(org_a_id=a_id, org_b_id=b_id))
    Partnership.objects.bulk_create(partnerships, batch_size=_BATCH)


def _pairs_as_slugs(
    pairs: set[tuple[int, int]], org_by_slug: dict[str, Organization]
) -> list[tuple[str, str]]:
    slug_of_id = {org.pk: slug for slug, org in org_by_slug.items()}
    return [(slug_of_id[a], slug_of_id[b]) for a, b in pairs]


def export_partners(fileobj: IO[str]) -> int:
    """Write the whole registry in the import format; returns the number of organizations."""
    writer = SpreadsheetWriter(fileobj, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    name_of = dict(Organization.objects.values_list("id", "name"))
    partners_of: dict[int, list[str]] = {}
    for a_id, b_id in Partnership.objects.values_list("org_a_id", "org_b_id"):
        partners_of.setdefault(a_id, []).append(name_of[b_id])
        partners_of.setdefault(b_id, []).append(name_of[a_id])
    domains_of: dict[int, list[str]] = {}
    for org_id, name in MailDomain.objects.order_by("name").values_list("organization_id", "name"):
        domains_of.setdefault(org_id, []).append(name)
    contacts_of: dict[int, list[str]] = {}
    for contact in Contact.objects.order_by("email"):
        text = f"{contact.name} <{contact.email}>" if contact.name else contact.email
        contacts_of.setdefault(contact.organization_id, []).append(text)
    count = 0
    for org in Organization.objects.order_by("name", "slug"):
        writer.writerow(
            [
                org.name,
                org.kind,
                org.province,
                ";".join(domains_of.get(org.pk, [])),
                ";".join(contacts_of.get(org.pk, [])),
                ";".join(sorted(partners_of.get(org.pk, []), key=str.lower)),
            ]
        )
        count += 1
    return count
