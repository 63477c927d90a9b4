"""Tables of the Statement resource: statements, their index keys, attachments and activities.

`lrs_statement` keeps each statement whole and immutable, beside indexed columns for the filters:

- `pk`: the stored-order key. Writers take one lock per transaction (`statements.lock_for_write`)
  before assigning `stored`, so `pk` order is commit order and `stored` order; `since`, `until`
  and `more` pages are keyset comparisons on it.
- `statement_id`: the statement's id as a lowercase UUID, unique (the body keeps the case sent).
- `body`: the statement as stored, as JSON text (UTF-8), with `id`, `stored`, `authority`,
  `version` and `timestamp` filled in and every contextActivities value an array. Readers
  `orjson.loads` it (use `json.loads` if exact integers beyond 64 bits in extensions matter);
  nothing ever rewrites it. GET /statements in `exact` format returns this text as it is.
- `verb_id`, `actor_key`, `object_type`, `object_activity_id`, `object_ref_id`, `registration`:
  the statement's own verb IRI, actor identifier (`lrs.xapi.statements.agent_key`: "mbox:mailto:..",
  "mbox_sha1sum:..", "openid:..", or "account:<homePage>|<name>"), object type, object Activity id
  (when the object is an Activity), StatementRef target and context registration.
- `stored`, `timestamp`: aware UTC datetimes (`timestamp` is when the experience happened).
- `voided`: true once a voiding statement targets it (Data 2.3.2). Readers other than
  GET ?voidedStatementId=... must skip voided statements.
- `authority_key`: the authority's identifier, for `statements/read/mine`.

For completions by account, verb, activity and time, read
`WHERE actor_key = 'account:<homePage>|<name>' AND verb_id = ... AND object_activity_id = ...
AND NOT voided`, with `timestamp` or `stored` for time; the (actor_key, verb_id) index serves
it. `object_activity_id` and `registration` are not indexed here (each index slows every batch
insert): to filter by them alone, join `lrs_statement_key` on kinds "o" and "r".

`lrs_statement_key` holds (kind, value, statement_pk) rows written at insert for every filter
(kinds in `lrs.xapi.statements`: verb, agent, related agent, activity, related activity,
registration), including those a StatementRef inherits from its target (Communication 2.1.3,
"Filter Conditions for StatementRefs"); queries use it as semi-joins.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lrs.db import Base, UTCDateTime

# SQLite only makes INTEGER PRIMARY KEY a rowid alias (monotonic, no extra index).
PrimaryKey = BigInteger().with_variant(Integer(), "sqlite")


class Statement(Base):
    """A stored statement, kept whole, with the columns its queries filter on."""

    __tablename__ = "lrs_statement"

    pk: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    body: Mapped[str] = mapped_column(Text)
    verb_id: Mapped[str] = mapped_column(String(2048))
    actor_key: Mapped[str | None] = mapped_column(String(2048))
    object_type: Mapped[str] = mapped_column(String(16))
    object_activity_id: Mapped[str | None] = mapped_column(String(2048))
    object_ref_id: Mapped[str | None] = mapped_column(String(36))
    registration: Mapped[str | None] = mapped_column(String(36))
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    authority_key: Mapped[str | None] = mapped_column(String(2048), index=True)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[str] = mapped_column(String(16))

    # Filters go through lrs_statement_key; this index serves readers of completions by actor and verb.
    # Fewer indexes here keep batch inserts fast (every index costs on each of thousands of rows).
    __table_args__ = (
        Index("ix_lrs_statement_actor_verb", "actor_key", "verb_id"),
        # Partial: most statements target no statement, and their NULLs need no index entry.
        Index(
            "ix_lrs_statement_object_ref_id",
            "object_ref_id",
            sqlite_where=text("object_ref_id IS NOT NULL"),
            postgresql_where=text("object_ref_id IS NOT NULL"),
        ),
    )


class StatementKey(Base):
    """One thing a statement is found by: (kind, value), for the semi-join filters."""

    __tablename__ = "lrs_statement_key"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[str] = mapped_column(String(2048), primary_key=True)
    # No separate index on statement_pk: a statement's keys are recomputed from its body when a
    # StatementRef needs them, which keeps every insert to one B-tree entry per key. No foreign
    # key either: rows are only ever written with their statement in one transaction and never
    # deleted, and a per-row constraint check would be the largest cost of a batch insert.
    statement_pk: Mapped[int] = mapped_column(PrimaryKey, primary_key=True)

    # On SQLite the primary key is the table itself (no rowid B-tree to maintain beside it).
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (SQLAlchemy reads it once)


class Attachment(Base):
    """The raw data of an attachment, stored once per SHA-2."""

    __tablename__ = "lrs_attachment"

    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Activity(Base):
    """An Activity's canonical definition, merged from the statements that mention it."""

    __tablename__ = "lrs_activity"

    activity_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    # The canonical Activity Definition as JSON text ("{}" when no statement gave one).
    definition: Mapped[str] = mapped_column(Text)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime())
