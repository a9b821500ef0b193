"""Writes of comply-or-explain: a new version of an explanation or exception."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractBaseUser

from monitoring import selectors
from monitoring.explanations.models import Explanation
from monitoring.probe.model import Level
from partners.models import Organization


class NothingToExplain(Exception):
    """The organization is verified (or not checked): there is no shortfall to explain."""


def explanation_record(
    *,
    organization: Organization,
    author: AbstractBaseUser,
    text: str,
    target_date: date | None,
    kind: str = Explanation.Kind.EXPLANATION,
) -> Explanation:
    """Store a new version (the old ones stay as history); empty text withdraws it.

    Permission is the caller's: views ask partners.access first.
    """
    level = selectors.organization_level(organization)
    if text.strip() and (level is None or level is Level.VERIFIED):
        raise NothingToExplain(organization.slug)
    return Explanation.objects.create(
        organization=organization,
        kind=kind,
        text=text.strip(),
        target_date=target_date if text.strip() else None,
        author=author,
    )
