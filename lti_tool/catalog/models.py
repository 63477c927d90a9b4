"""Store the international learning zone: providers, courses, hour segments, history, checks, reviews."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lrs.db import Base, UTCDateTime, utcnow
from lti_tool.catalog.domain import Format, Kind, ProviderType, Status, tenths_to_hours, unpack


class CatalogProvider(Base):
    """An institution that provides international courses (university, international organisation, ...)."""

    __tablename__ = "catalog_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(40), default=ProviderType.UNIVERSITY.value)
    website: Mapped[str] = mapped_column(String(2000), default="")

    @property
    def provider_type(self) -> ProviderType:
        """Return the provider's type."""
        return ProviderType(self.kind)


class CatalogCourse(Base):
    """A course or learning resource of the zone, with its licence, hours and curation state (B1)."""

    __tablename__ = "catalog_course"
    __table_args__ = (
        Index("ix_catalog_course_status_rank", "status", "rank_score"),
        Index("ix_catalog_course_status_listed", "status", "listed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=Kind.COURSE.value)
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT.value)
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[int] = mapped_column(ForeignKey("catalog_provider.id"), index=True)
    platform: Mapped[str] = mapped_column(String(120), default="")
    format: Mapped[str] = mapped_column(String(20), default=Format.MOOC.value)
    languages_text: Mapped[str] = mapped_column(String(300), default="")
    subtitle_languages_text: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(2000))
    embed_url: Mapped[str] = mapped_column(String(2000), default="")
    licence_holder: Mapped[str] = mapped_column(String(300), default="")
    licence_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    licence_agreement: Mapped[str] = mapped_column(String(300), default="")
    effort: Mapped[str] = mapped_column(String(300), default="")
    effort_tenths: Mapped[int | None] = mapped_column(Integer, default=None)
    # Hours are stored as whole tenths so that every backend keeps them exact (R14).
    hours_tenths: Mapped[int] = mapped_column(Integer, default=0)
    digital_tenths: Mapped[int] = mapped_column(Integer, default=0)
    physical_tenths: Mapped[int] = mapped_column(Integer, default=0)
    has_test: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark: Mapped[int | None] = mapped_column(Integer, default=None)
    pass_mark_defaulted: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_required: Mapped[bool] = mapped_column(Boolean, default=True)
    cross_year_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    class_start: Mapped[dt.date | None] = mapped_column(Date, default=None)
    class_end: Mapped[dt.date | None] = mapped_column(Date, default=None)
    topics_text: Mapped[str] = mapped_column(String(1400), default="")
    tags_text: Mapped[str] = mapped_column(String(1400), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When the published content last changed (first publication or a later edit): the
    # "new and updated" list orders by it.
    listed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    approved_by: Mapped[str] = mapped_column(String(80), default="")
    link_status: Mapped[str] = mapped_column(String(20), default="unchecked")
    link_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    link_http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    link_detail: Mapped[str] = mapped_column(String(300), default="")
    link_failures: Mapped[int] = mapped_column(Integer, default=0)
    launch_count: Mapped[int] = mapped_column(Integer, default=0)
    completion_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rank_score: Mapped[float] = mapped_column(Float, default=0.0)

    provider: Mapped[CatalogProvider] = relationship(lazy="joined")
    segments: Mapped[list[CatalogSegment]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CatalogSegment.position", lazy="selectin"
    )

    @property
    def hours(self) -> Decimal:
        """Return the certified hours."""
        return tenths_to_hours(self.hours_tenths)

    @property
    def digital_hours(self) -> Decimal:
        """Return the digital hours."""
        return tenths_to_hours(self.digital_tenths)

    @property
    def physical_hours(self) -> Decimal:
        """Return the physical (in-person) hours."""
        return tenths_to_hours(self.physical_tenths)

    @property
    def effort_hours(self) -> Decimal | None:
        """Return the provider's effort in hours, when known."""
        return None if self.effort_tenths is None else tenths_to_hours(self.effort_tenths)

    @property
    def languages(self) -> list[str]:
        """Return the teaching languages."""
        return unpack(self.languages_text)

    @property
    def subtitle_languages(self) -> list[str]:
        """Return the subtitle languages."""
        return unpack(self.subtitle_languages_text)

    @property
    def topics(self) -> list[str]:
        """Return the topics."""
        return unpack(self.topics_text)

    @property
    def tags(self) -> list[str]:
        """Return the tags."""
        return unpack(self.tags_text)

    @property
    def status_enum(self) -> Status:
        """Return the workflow status."""
        return Status(self.status)

    @property
    def format_enum(self) -> Format:
        """Return the delivery format."""
        return Format(self.format)

    @property
    def learning_nature(self) -> int:
        """Return 學習性質: 1 digital, 2 physical, 3 blended (R9)."""
        if self.digital_tenths > 0 and self.physical_tenths > 0:
            return 3
        return 2 if self.physical_tenths > 0 else 1

    @property
    def rating_average(self) -> float | None:
        """Return the average approved rating, if any."""
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def completion_rate(self) -> float | None:
        """Return completions per launch, if anyone launched it."""
        return round(self.completion_count / self.launch_count, 3) if self.launch_count else None


class CatalogSegment(Base):
    """Hours of a course credited under one course-category code (R10)."""

    __tablename__ = "catalog_segment"
    __table_args__ = (UniqueConstraint("course_id", "category_code", name="uq_catalog_segment_course_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalog_course.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category_code: Mapped[str] = mapped_column(String(10), index=True)
    hours_tenths: Mapped[int] = mapped_column(Integer)

    course: Mapped[CatalogCourse] = relationship(back_populates="segments")

    @property
    def hours(self) -> Decimal:
        """Return the segment's hours."""
        return tenths_to_hours(self.hours_tenths)


class CatalogHistory(Base):
    """One change to a course: who, when, what (B3)."""

    __tablename__ = "catalog_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalog_course.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(30))
    # {"field": [old, new], ...} for edits; the checklist for approvals.
    changes_json: Mapped[str] = mapped_column(Text, default="{}")
    note: Mapped[str] = mapped_column(String(1000), default="")

    @property
    def changes(self) -> dict[str, list[object]]:
        """Return the changed fields with their old and new values."""
        value = orjson.loads(self.changes_json or "{}")
        return value if isinstance(value, dict) else {}


class CatalogLinkCheck(Base):
    """One check of a course's address (B5)."""

    __tablename__ = "catalog_link_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalog_course.id", ondelete="CASCADE"), index=True)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    url: Mapped[str] = mapped_column(String(2000))
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    final_url: Mapped[str] = mapped_column(String(2000), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)


class CatalogRecommendation(Base):
    """An expert's recommendation of a course, with the reason (推薦理由) (B6)."""

    __tablename__ = "catalog_recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalog_course.id", ondelete="CASCADE"), index=True)
    expert_name: Mapped[str] = mapped_column(String(120))
    expert_title: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogReview(Base):
    """A learner's rating and short review, shown only after a curator approves it (B6)."""

    __tablename__ = "catalog_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalog_course.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000), default="")
    author_name: Mapped[str] = mapped_column(String(80), default="")
    # A keyed hash of the sender's address, only to limit how many reviews one client sends.
    client_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    # pending -> approved | rejected
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_by: Mapped[str] = mapped_column(String(80), default="")
    moderated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class CatalogImportJob(Base):
    """An uploaded import, its progress and its report (B4)."""

    __tablename__ = "catalog_import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(255), default="")
    # queued -> running -> done | refused | failed
    state: Mapped[str] = mapped_column(String(20), default="queued")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    checked_rows: Mapped[int] = mapped_column(Integer, default=0)
    report_json: Mapped[str] = mapped_column(Text, default="{}")
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
