"""Store LRS credentials: a public key, a hashed secret, scopes and the authority they record.

Secrets are 32 random bytes shown once at creation. Because they carry full entropy, a single
SHA-256 is as safe to store as a slow password hash and keeps the per-request check fast under load
(a slow KDF on every statement POST would cap throughput). Revocation is a column checked on every
request, so it takes effect at once in every worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson
from sqlalchemy import Boolean, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs.db import Base, UTCDateTime, driver_sql, utcnow
from lrs.errors import BadRequest, NotFound

# xAPI 1.0.3 Communication 4.2 (OAuth scopes) lists these; Basic credentials use the same names.
SCOPES = (
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "all/read",
    "all",
    "state",
    "define",
    "profile",
)


def hash_secret(secret: str) -> str:
    """Hash a full-entropy secret for storage."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Credential(Base):
    """A key and hashed secret that an xAPI client authenticates with."""

    __tablename__ = "lrs_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes_text: Mapped[str] = mapped_column("scopes", String(300))
    # The xAPI authority recorded on statements this credential writes, as canonical JSON.
    authority_json: Mapped[str] = mapped_column(Text)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    @property
    def scopes(self) -> frozenset[str]:
        """Return the credential's scopes."""
        return frozenset(self.scopes_text.split())


@dataclass(frozen=True)
class IssuedCredential:
    """A newly created credential, with the secret shown this once."""

    credential: Credential
    secret: str


def parse_scopes(text: str | list[str]) -> list[str]:
    """Validate scope names given as a list or a comma/space separated string."""
    names = text if isinstance(text, list) else [s for s in text.replace(",", " ").split() if s]
    unknown = [name for name in names if name not in SCOPES]
    if unknown:
        raise BadRequest(f"Unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}.")
    if not names:
        raise BadRequest(f"Give at least one scope: {', '.join(SCOPES)}.")
    return sorted(set(names))


def create_credential(
    session: Session, name: str, scopes: list[str], homepage: str, created_by: str = ""
) -> IssuedCredential:
    """Create a credential and return it with its one-time secret."""
    name = name.strip()
    if not name or len(name) > 200:
        raise BadRequest("Give the credential a name of 1 to 200 characters (who or what uses it).")
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    authority = {"objectType": "Agent", "name": name, "account": {"homePage": homepage, "name": key}}
    credential = Credential(
        key=key,
        secret_hash=hash_secret(secret),
        name=name,
        scopes_text=" ".join(parse_scopes(scopes)),
        authority_json=orjson.dumps(authority).decode(),
        created_by=created_by,
    )
    session.add(credential)
    session.flush()
    return IssuedCredential(credential, secret)


@dataclass(frozen=True)
class ActiveCredential:
    """What a request needs of a valid credential: who it is, its scopes and its authority."""

    key: str
    name: str
    scopes: frozenset[str]
    authority_json: str


# One indexed lookup per xAPI request, without ORM objects; nothing is cached, so a revocation or a
# scope change takes effect at once in every worker.
_CHECK_SQL = "SELECT name, secret_hash, scopes, authority_json, revoked FROM lrs_credential WHERE key = ?"


def check_credential(session: Session, key: str, secret: str) -> ActiveCredential | None:
    """Return the active credential matching key and secret, or None."""
    row = driver_sql(session, _CHECK_SQL, (key,))
    if row is None:
        return None
    name, secret_hash, scopes, authority_json, revoked = row
    if revoked or not hmac.compare_digest(secret_hash, hash_secret(secret)):
        return None
    return ActiveCredential(key, name, frozenset(scopes.split()), authority_json)


def revoke_credential(session: Session, key: str) -> Credential:
    """Revoke a credential by key."""
    credential = session.scalar(select(Credential).where(Credential.key == key))
    if credential is None:
        raise NotFound(f"No credential has the key {key!r}.")
    if not credential.revoked:
        credential.revoked = True
        credential.revoked_at = utcnow()
    return credential


def list_credentials(session: Session) -> list[Credential]:
    """List every credential, newest first."""
    return list(session.scalars(select(Credential).order_by(Credential.created_at.desc(), Credential.id.desc())))
