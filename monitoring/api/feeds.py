"""The live TLS policy feed: an organization's enforcement plan as a mail server's table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Max, Q
from django.utils import timezone

from monitoring import selectors
from monitoring.dashboard import enforcement
from monitoring.models import DomainStatus
from partners.models import Organization, Partnership

# The tables the feed writes; the API accepts exactly these.
Flavour = Literal["postfix", "exim", "sendmail"]


@dataclass(frozen=True)
class Feed:
    text: str
    etag: str  # quoted, as the header carries it
    last_modified: datetime


def _last_modified(organization: Organization) -> datetime:
    """When the plan last could have changed: a partner domain's level, or a partnership."""
    partners = selectors.partners_of(organization)
    moments = [
        DomainStatus.objects.filter(domain__organization__in=partners).aggregate(
            latest=Max("since")
        )["latest"],
        Partnership.objects.filter(Q(org_a=organization) | Q(org_b=organization)).aggregate(
            latest=Max("created")
        )["latest"],
    ]
    found = [moment for moment in moments if moment is not None]
    return max(found) if found else organization.created


def policy_feed(
    *, organization: Organization, flavour: Flavour, mode: enforcement.PostfixMode
) -> Feed:
    """The current table for `flavour` ("postfix", "exim", "sendmail").

    Dated by the last change rather than today, so the text (and its ETag) stays the same
    until a partner's level or the partnerships change: a scheduled fetch gets 304 until then.
    A partner that regresses leaves the plan (or drops to `encrypt`) in the next fetch.
    """
    plan = enforcement.enforcement_plan(organization=organization)
    last_modified = _last_modified(organization).replace(microsecond=0)
    generated = timezone.localtime(last_modified).date()
    if flavour == "postfix":
        text = enforcement.postfix_policy(plan, mode=mode, generated=generated)
    elif flavour == "exim":
        text = enforcement.exim_config(plan, generated=generated)
    else:
        text = enforcement.sendmail_access(plan, generated=generated)
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    return Feed(text=text, etag=etag, last_modified=last_modified)
