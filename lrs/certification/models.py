"""Tables of hour certification: code additions, hour registry, people, actor mappings, ledger, overrides, audit.

Hours are stored as whole tenths (`*_tenths` integer columns): exact on every backend, one decimal
place as R14 asks, and no Decimal-on-SQLite warnings. National ID numbers are stored only encrypted
(`id_cipher`), with an HMAC lookup column (`id_lookup`, unique: a number belongs to one person) and
the masked form shown on screens (`id_masked`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lrs.db import Base, UTCDateTime, utcnow


class CategoryCodeAddition(Base):
    """A course-category code added after the shipped 2023-08 table (e.g. 539, 540, 541, 546)."""

    __tablename__ = "certification_code"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    top_group: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    added_by: Mapped[str] = mapped_column(String(80), default="")
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Course(Base):
    """A certifiable activity and its terms: hours, codes, pass mark, survey, repeat flag, class period (D1)."""

    __tablename__ = "certification_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(64), unique=True)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    primary_code: Mapped[str] = mapped_column(String(10))
    digital_tenths: Mapped[int] = mapped_column(Integer, default=0)
    physical_tenths: Mapped[int] = mapped_column(Integer, default=0)
    has_test: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark_tenths: Mapped[int | None] = mapped_column(Integer, default=None)
    survey_required: Mapped[bool] = mapped_column(Boolean, default=True)
    cross_year_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    class_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    class_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    city_code: Mapped[str] = mapped_column(String(2), default="10")
    term: Mapped[str] = mapped_column(String(20), default="1")
    provider_effort_tenths: Mapped[int | None] = mapped_column(Integer, default=None)
    foreign: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")

    segments: Mapped[list[CourseSegment]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseSegment.position", lazy="selectin"
    )


class CourseSegment(Base):
    """Part of a course's hours under its own category code (R10)."""

    __tablename__ = "certification_course_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("certification_course.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100), default="")
    digital_tenths: Mapped[int] = mapped_column(Integer, default=0)
    physical_tenths: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(back_populates="segments")


class CourseHistory(Base):
    """One change to a registry entry: who, when, why, and the entry before and after (JSON)."""

    __tablename__ = "certification_course_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("certification_course.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")


class Person(Base):
    """A civil servant whose hours are certified: agency, staff category, 資安 role, encrypted ID (D6)."""

    __tablename__ = "certification_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    agency_code: Mapped[str] = mapped_column(String(10), index=True)
    category: Mapped[str] = mapped_column(String(20), default="permanent")
    security_role: Mapped[str] = mapped_column(String(20), default="general")
    id_kind: Mapped[str] = mapped_column(String(10))
    id_cipher: Mapped[str] = mapped_column(Text)
    id_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(32))
    birthday: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"Person(id={self.id}, agency={self.agency_code}, id={self.id_masked})"


class ActorLink(Base):
    """An LRS actor (platform homePage + account name) mapped to a person; an actor maps to one person only."""

    __tablename__ = "certification_actor"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("certification_person.id", ondelete="CASCADE"), index=True)
    home_page: Mapped[str] = mapped_column(String(1024))
    account_name: Mapped[str] = mapped_column(String(512))
    # The LRS's own actor identifier (`account:<homePage>|<name>`), so evidence is found by index.
    actor_key: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="staff")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Credit(Base):
    """The ledger: one row per person, course and year, pointing to the statements that prove it (D3)."""

    __tablename__ = "certification_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("certification_person.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("certification_course.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="credited")  # credited | refused | in_progress | revoked
    source: Mapped[str] = mapped_column(String(10), default="evidence")  # evidence | manual
    digital_tenths: Mapped[int] = mapped_column(Integer, default=0)
    physical_tenths: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[str | None] = mapped_column(String(16), default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    statement_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of statement ids
    explanation: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of lines
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("person_id", "course_id", "year", name="uq_certification_credit_person_course_year"),
        Index("ix_certification_credit_year_status", "year", "status"),
    )


class Override(Base):
    """A manual credit or revocation by certification staff, with its reason (D3); inactive once withdrawn."""

    __tablename__ = "certification_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("certification_person.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("certification_course.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # grant | revoke
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(Base):
    """Who did what in certification, when; details never hold an ID number in clear."""

    __tablename__ = "certification_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
