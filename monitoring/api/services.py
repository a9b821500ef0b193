"""Writes of the API: creating, revoking and using tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from monitoring.api.models import ApiToken

# Every token starts with this, so secret scanners and people recognize one.
TOKEN_PREFIX = "secmail_"
# last_used is written at most this often per token: a busy poller should not write every call.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its secret, which is not stored anywhere."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API token",
        token_hash=token_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
    )
    return token, secret


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when there is no such active token."""
    return (
        ApiToken.objects.filter(pk=token_id, user=user, revoked__isnull=True).update(
            revoked=timezone.now()
        )
        == 1
    )


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret whose user is still active, marking it used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash(secret), revoked__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token
