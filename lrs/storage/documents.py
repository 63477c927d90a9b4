"""Store State, Activity Profile and Agent Profile documents, with race-free conditional writes.

One table holds the three kinds. A document is keyed as the specification keys it (Communication
2.3-2.7): State by activity, agent, optional registration and stateId; Activity Profile by activity
and profileId; Agent Profile by agent and profileId. The agent is stored by its canonical identifier.
`owner_hash` names the activity and/or agent a document belongs to (what the ids listing and the
multi-delete read, narrowed by registration when one is given); `key_hash` names the document
itself and is unique, so two creators cannot both insert.

Every write re-checks the ETag the caller decided on inside the SQL statement that writes
(`UPDATE ... WHERE etag = :seen`, `INSERT` against the unique key), so of two clients racing with
the same ETag exactly one wins on SQLite and on PostgreSQL; the loser sees a changed document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Index, LargeBinary, String, Text, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs.db import Base, UTCDateTime, utcnow
from lrs.xapi_documents import etag_of


class Document(Base):
    """One State, Activity Profile or Agent Profile document: bytes, content type, ETag, time."""

    __tablename__ = "lrs_document"
    __table_args__ = (Index("ix_lrs_document_owner_updated", "owner_hash", "registration", "updated"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    activity_id: Mapped[str | None] = mapped_column(Text, default=None)
    agent_key: Mapped[str | None] = mapped_column(Text, default=None)
    registration: Mapped[str | None] = mapped_column(String(36), default=None)
    document_id: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(255))
    etag: Mapped[str] = mapped_column(String(40))
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class Scope:
    """The set of documents a request addresses: kind plus activity, agent and registration as given."""

    kind: str
    activity_id: str | None = None
    agent_key: str | None = None
    registration: str | None = None

    @property
    def owner_hash(self) -> str:
        """Return the stable hash of kind, activity and agent (registration left out)."""
        parts = (self.kind, self.activity_id or "", self.agent_key or "")
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def key_hash(self, document_id: str) -> str:
        """Return the hash naming one document in this scope."""
        text = f"{self.owner_hash}\x1f{self.registration or ''}\x1f{document_id}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def where(self) -> list[ColumnElement[bool]]:
        """Return the filter of the scope's documents: a given registration narrows it (Communication 2.3.s4)."""
        clauses = [Document.owner_hash == self.owner_hash]
        if self.registration is not None:
            clauses.append(Document.registration == self.registration)
        return clauses


def get_document(session: Session, scope: Scope, document_id: str) -> Document | None:
    """Return one document, or None."""
    query = select(Document).where(Document.key_hash == scope.key_hash(document_id))
    # Always read what the database holds now, never a copy an earlier read left in the session.
    return session.scalar(query.execution_options(populate_existing=True))


def list_ids(session: Session, scope: Scope, since: dt.datetime | None) -> tuple[list[str], dt.datetime | None]:
    """Return the ids in a scope updated after `since` (exclusive), and the latest update time."""
    query = select(Document.document_id, Document.updated).where(*scope.where())
    if since is not None:
        query = query.where(Document.updated > since)
    rows = session.execute(query.order_by(Document.updated, Document.id)).all()
    latest = max((row.updated for row in rows), default=None)
    # Without a registration the listing spans registrations, where one stateId may recur: list it once.
    return list(dict.fromkeys(row.document_id for row in rows)), latest


def latest_update(session: Session, scope: Scope) -> dt.datetime | None:
    """Return when the most recently modified document of the scope changed."""
    return session.scalar(select(func.max(Document.updated)).where(*scope.where()))


def insert_document(
    session: Session, scope: Scope, document_id: str, content: bytes, content_type: str
) -> bool:
    """Create a document; tell whether it was created (False: another writer created it first).

    `INSERT ... ON CONFLICT DO NOTHING` on the unique key needs no savepoint on either backend: a
    concurrent creator makes this insert wait, then do nothing.
    """
    values = {
        "key_hash": scope.key_hash(document_id),
        "owner_hash": scope.owner_hash,
        "kind": scope.kind,
        "activity_id": scope.activity_id,
        "agent_key": scope.agent_key,
        "registration": scope.registration,
        "document_id": document_id,
        "content": content,
        "content_type": content_type,
        "etag": etag_of(content),
        "updated": utcnow(),
    }
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Document).values(**values).on_conflict_do_nothing(index_elements=["key_hash"])
    # RETURNING tells reliably whether a row went in (rowcount is -1 here under psycopg).
    return session.execute(statement.returning(Document.id)).first() is not None


def replace_document(
    session: Session, scope: Scope, document_id: str, content: bytes, content_type: str, seen_etag: str | None
) -> bool:
    """Overwrite a document if its ETag is still `seen_etag` (any ETag when None); tell whether it was."""
    statement = (
        update(Document)
        .where(Document.key_hash == scope.key_hash(document_id))
        .values(content=content, content_type=content_type, etag=etag_of(content), updated=utcnow())
        .execution_options(synchronize_session=False)
    )
    if seen_etag is not None:
        statement = statement.where(Document.etag == seen_etag)
    return _rowcount(session.execute(statement)) == 1


def delete_document(session: Session, scope: Scope, document_id: str, seen_etag: str | None) -> bool:
    """Delete a document if its ETag is still `seen_etag` (any ETag when None); tell whether one was."""
    statement = delete(Document).where(Document.key_hash == scope.key_hash(document_id))
    if seen_etag is not None:
        statement = statement.where(Document.etag == seen_etag)
    return _rowcount(session.execute(statement.execution_options(synchronize_session=False))) == 1


def delete_scope(session: Session, scope: Scope) -> int:
    """Delete every document of a scope (Communication 2.3.s5); return how many."""
    statement = delete(Document).where(*scope.where())
    return _rowcount(session.execute(statement.execution_options(synchronize_session=False)))


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def count_documents(session: Session, kinds: Sequence[str] | None = None) -> int:
    """Count stored documents, optionally of some kinds."""
    query = select(func.count(Document.id))
    if kinds:
        query = query.where(Document.kind.in_(kinds))
    return int(session.scalar(query) or 0)
