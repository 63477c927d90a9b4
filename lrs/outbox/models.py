"""Store outbox messages: work written in the same transaction as what it reports, delivered later.

A message belongs to a channel (`lrs.forward` for statement forwarding, the LTI tool's channels for
its statements and scores); its payload is JSON. A deliverer claims due messages with a lease
(`claimed_until`), so a worker that dies mid-delivery leaves its messages to be claimed again
once the lease runs out, and several workers never deliver the same message at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lrs.db import Base, UTCDateTime, utcnow

# SQLite only makes INTEGER PRIMARY KEY an autoincrementing rowid alias.
_PrimaryKey = BigInteger().with_variant(Integer(), "sqlite")

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


class OutboxMessage(Base):
    """One unit of work for a channel's handler, with its delivery state."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(_PrimaryKey, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
