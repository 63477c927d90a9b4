"""Read and change the catalog in the database: courses, curation, search, signals, reviews.

Search works the same on SQLite and PostgreSQL: every course keeps a `search_text` column holding
its titles, descriptions, provider names, topics, tags and codes folded by `normalise_search`
(NFKC, case-folded), and each query term must appear in it as a substring (`LIKE '%term%'`).
Chinese is written without spaces, so word-based full-text engines (SQLite FTS5's default
tokenizer, PostgreSQL's `to_tsvector`) do not find a two-character Chinese word inside a longer run
without an extra segmenter (zhparser, jieba) that neither backend ships; n-gram tables would, but
the zone holds hundreds to a few thousand curated items, where a scan of one short text column is
a fraction of a millisecond per row and needs no extension, trigger or second index to keep in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from lrs.certification import registry as hour_registry
from lrs.certification import settings as certification_settings
from lrs.certification.codes import CategoryCode, code_table, default_codes
from lrs.db import utcnow
from lrs.errors import AppError, BadRequest, Conflict, NotFound
from lti_tool.catalog.domain import (
    Action,
    CourseData,
    Format,
    ProviderData,
    Status,
    format_hours,
    hours_to_tenths,
    next_status,
    normalise_search,
    pack,
    rank_score,
    search_terms,
    search_text,
    validate_course,
)
from lti_tool.catalog.models import (
    CatalogCourse,
    CatalogHistory,
    CatalogProvider,
    CatalogRecommendation,
    CatalogReview,
    CatalogSegment,
)

MAX_PER_PAGE = 100
TAIPEI = ZoneInfo("Asia/Taipei")


class TooManyReviews(AppError):
    """One client sent more reviews than a person plausibly writes in a day."""

    status = 429
    code = "too_many_requests"
SORTS = ("rank", "new", "title", "hours")


def category_codes(session: Session) -> dict[str, CategoryCode]:
    """Return the category codes in force: the shipped table plus those certification staff added (e.g. 539)."""
    return code_table(session)


def validate(raw: dict[str, Any], codes: Mapping[str, Any] | None = None) -> CourseData:
    """Validate raw course fields against the catalog rules and the category-code table in force.

    Pass `codes` from `category_codes(session)` so that codes staff added are accepted; without it
    only the shipped table is known.
    """
    table = default_codes() if codes is None else codes
    return validate_course(raw, lambda code: code.strip() in table)


# ---- providers and courses ---------------------------------------------------------------------

def upsert_provider(session: Session, data: ProviderData) -> CatalogProvider:
    """Return the provider with this key, creating it or filling in its details."""
    provider = session.scalar(select(CatalogProvider).where(CatalogProvider.key == data.key))
    if provider is None:
        provider = CatalogProvider(key=data.key, name_en=data.name_en, name_zh=data.name_zh, country=data.country,
                                   kind=data.kind.value, website=data.website)
        session.add(provider)
        session.flush()
        return provider
    provider.name_en, provider.name_zh, provider.country = data.name_en, data.name_zh, data.country
    provider.kind = data.kind.value
    if data.website:
        provider.website = data.website
    return provider


def snapshot(course: CatalogCourse) -> dict[str, Any]:
    """Return a course's editable fields as plain values (for history, forms and export)."""
    provider = course.provider
    return {
        "code": course.code,
        "kind": course.kind,
        "status": course.status,
        "title_zh": course.title_zh,
        "title_en": course.title_en,
        "description_zh": course.description_zh,
        "description_en": course.description_en,
        "provider_key": provider.key,
        "provider_name_en": provider.name_en,
        "provider_name_zh": provider.name_zh,
        "provider_country": provider.country,
        "provider_type": provider.kind,
        "provider_website": provider.website,
        "platform": course.platform,
        "format": course.format,
        "languages": course.languages,
        "subtitle_languages": course.subtitle_languages,
        "url": course.url,
        "embed_url": course.embed_url,
        "licence_holder": course.licence_holder,
        "licence_until": course.licence_until.isoformat() if course.licence_until else "",
        "licence_agreement": course.licence_agreement,
        "effort": course.effort,
        "effort_hours": format_hours(course.effort_hours) if course.effort_hours is not None else "",
        "hours": format_hours(course.hours),
        "segments": [{"code": s.category_code, "hours": format_hours(s.hours)} for s in course.segments],
        "digital_hours": format_hours(course.digital_hours),
        "physical_hours": format_hours(course.physical_hours),
        "has_test": course.has_test,
        "pass_mark": "" if course.pass_mark is None or course.pass_mark_defaulted else course.pass_mark,
        "survey_required": course.survey_required,
        "cross_year_repeat": course.cross_year_repeat,
        "class_start": course.class_start.isoformat() if course.class_start else "",
        "class_end": course.class_end.isoformat() if course.class_end else "",
        "topics": course.topics,
        "tags": course.tags,
    }


def _apply(session: Session, course: CatalogCourse, data: CourseData) -> None:
    provider = upsert_provider(session, data.provider)
    course.provider = provider
    course.code = data.code
    course.kind = data.kind.value
    course.title_zh, course.title_en = data.title_zh, data.title_en
    course.description_zh, course.description_en = data.description_zh, data.description_en
    course.platform = data.platform
    course.format = data.format.value
    course.languages_text = pack(data.languages)
    course.subtitle_languages_text = pack(data.subtitle_languages)
    course.url, course.embed_url = data.url, data.embed_url
    course.licence_holder, course.licence_until = data.licence_holder, data.licence_until
    course.licence_agreement = data.licence_agreement
    course.effort = data.effort
    course.effort_tenths = None if data.effort_hours is None else hours_to_tenths(data.effort_hours)
    course.hours_tenths = hours_to_tenths(data.hours)
    course.digital_tenths = hours_to_tenths(data.digital_hours)
    course.physical_tenths = hours_to_tenths(data.physical_hours)
    course.has_test, course.pass_mark = data.has_test, data.pass_mark
    course.pass_mark_defaulted = data.pass_mark_defaulted
    course.survey_required, course.cross_year_repeat = data.survey_required, data.cross_year_repeat
    course.class_start, course.class_end = data.class_start, data.class_end
    course.topics_text, course.tags_text = pack(data.topics), pack(data.tags)
    wanted = [(s.code, hours_to_tenths(s.hours)) for s in data.segments]
    current = [(s.category_code, s.hours_tenths) for s in course.segments]
    if wanted != current:
        course.segments.clear()
        session.flush()  # delete the old segments before inserting ones that may reuse their codes
        course.segments.extend(
            CatalogSegment(position=i, category_code=code, hours_tenths=tenths) for i, (code, tenths) in enumerate(wanted)
        )
    codes = category_codes(session)
    course.search_text = search_text([
        data.code, data.title_zh, data.title_en, data.description_zh, data.description_en,
        provider.name_en, provider.name_zh, data.platform, *data.topics, *data.tags,
        *(s.code + " " + (codes[s.code].name if s.code in codes else "") for s in data.segments),
    ])


def sync_registry(session: Session, course: CatalogCourse, actor: str) -> None:
    """Bring the course's hour-registry entry in step with the catalog (D1), in the caller's transaction.

    Called on publish, on edits of a published course and on retirement: a published course is an
    active entry, any other status an inactive one. A course the registry refuses (for instance a
    foreign course whose hours break R13) raises BadRequest, so the catalog change is not stored either.
    """
    session.flush()
    hour_registry.sync_from_catalog(
        session, category_codes(session),
        course_code=course.code, title_zh=course.title_zh, title_en=course.title_en,
        summary=course.description_zh or course.description_en,
        digital_tenths=course.digital_tenths, physical_tenths=course.physical_tenths,
        segments=[(s.category_code, s.hours_tenths) for s in course.segments],
        has_test=course.has_test, pass_mark=course.pass_mark, survey_required=course.survey_required,
        cross_year_repeat=course.cross_year_repeat, class_start=course.class_start, class_end=course.class_end,
        effort_tenths=course.effort_tenths, active=course.status_enum is Status.PUBLISHED,
        base_url=certification_settings.activity_base(), by=f"catalog:{actor}"[:80],
    )


def _history(session: Session, course: CatalogCourse, actor: str, action: str,
             changes: dict[str, Any] | None = None, note: str = "") -> None:
    session.add(CatalogHistory(course_id=course.id, actor=actor, action=action,
                               changes_json=orjson.dumps(changes or {}).decode(), note=note[:1000]))


def create_course(session: Session, data: CourseData, actor: str, *, status: Status = Status.DRAFT,
                  note: str = "", sync: bool = True) -> CatalogCourse:
    """Add a course (a draft unless told otherwise) and record who created it.

    A course created published enters the hour registry too, unless `sync` is false (demo data whose
    registry entries the certification demo writes itself).
    """
    if session.scalar(select(CatalogCourse.id).where(CatalogCourse.code == data.code)) is not None:
        raise Conflict(f"The course code {data.code} is already used; choose another code or edit that course.")
    course = CatalogCourse(code=data.code, status=status.value, created_by=actor)
    _apply(session, course, data)
    session.add(course)
    session.flush()
    now = utcnow()
    if status is Status.PUBLISHED:
        course.published_at = course.listed_at = now
    _history(session, course, actor, "create", note=note)
    _rerank(session, course)
    if status is Status.PUBLISHED and sync:
        sync_registry(session, course, actor)
    return course


def update_course(session: Session, course: CatalogCourse, data: CourseData, actor: str,
                  expected_version: int | None = None) -> dict[str, Any]:
    """Change a course's fields, keeping every difference in its history; return the differences."""
    if expected_version is not None and expected_version != course.version:
        raise Conflict("Someone changed this course while you were editing it; reload the page and apply your changes again.")
    if course.status_enum is Status.RETIRED:
        raise Conflict("A retired course cannot be edited; reopen it as a draft first.")
    if data.code != course.code:
        raise BadRequest("A course code cannot change once the course exists.")
    before = snapshot(course)
    _apply(session, course, data)
    session.flush()
    after = snapshot(course)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return {}
    course.version += 1
    now = utcnow()
    course.updated_at = now
    if course.status_enum is Status.PUBLISHED:
        course.listed_at = now  # shows in "new and updated"
    elif course.approved_at is not None:
        course.approved_at, course.approved_by = None, ""  # an approval covers what the reviewer saw
    _history(session, course, actor, "edit", changes)
    if course.status_enum is Status.PUBLISHED:
        sync_registry(session, course, actor)
    return changes


def apply_action(session: Session, course: CatalogCourse, action: Action, actor: str, *, note: str = "",
                 checklist: Sequence[str] = (), four_eyes: bool = False) -> Status:
    """Move a course through the curation workflow and record the step (B3).

    With `four_eyes`, the reviewer who approves must not be anyone who created or edited the course.
    """
    try:
        target = next_status(course.status_enum, action, approved=course.approved_at is not None, checklist=checklist)
    except ValueError as err:
        raise Conflict(str(err)) from None
    if action is Action.APPROVE and four_eyes:
        authors = set(session.scalars(select(CatalogHistory.actor).where(
            CatalogHistory.course_id == course.id, CatalogHistory.action.in_(("create", "edit")))))
        if actor in authors:
            raise Conflict("You wrote or edited this course, so another curator must review it.")
    if action is Action.RETURN and not note.strip():
        raise BadRequest("Say what the author should change when you return a course.")
    now = utcnow()
    changes: dict[str, Any] = {"status": [course.status, target.value]} if target.value != course.status else {}
    if action is Action.APPROVE:
        course.approved_at, course.approved_by = now, actor
        changes["checklist"] = sorted(checklist)
    elif action in (Action.RETURN, Action.REOPEN):
        course.approved_at, course.approved_by = None, ""
    elif action is Action.PUBLISH:
        course.published_at = course.published_at or now
        course.listed_at = now
        course.retired_at = None
    elif action is Action.RETIRE:
        course.retired_at = now
    course.status = target.value
    course.version += 1
    course.updated_at = now
    _history(session, course, actor, action.value, changes, note)
    if action in (Action.PUBLISH, Action.RETIRE):
        sync_registry(session, course, actor)
    return target


def get_course(session: Session, code: str) -> CatalogCourse:
    """Return any course by code, or raise NotFound."""
    course = session.scalar(select(CatalogCourse).where(CatalogCourse.code == code.strip().upper()))
    if course is None:
        raise NotFound(f"No course has the code {code.strip()[:40]!r}.")
    return course


def get_published_course(session: Session, code: str) -> CatalogCourse:
    """Return a published course by code, or raise NotFound (what learners and deep linking may see)."""
    course = session.scalar(select(CatalogCourse).where(
        CatalogCourse.code == code.strip().upper(), CatalogCourse.status == Status.PUBLISHED.value))
    if course is None:
        raise NotFound(f"No published course has the code {code.strip()[:40]!r}.")
    return course


def history(session: Session, course: CatalogCourse) -> list[CatalogHistory]:
    """Return a course's history, newest first."""
    return list(session.scalars(
        select(CatalogHistory).where(CatalogHistory.course_id == course.id).order_by(CatalogHistory.id.desc())))


# ---- search -------------------------------------------------------------------------------------

@dataclass
class CourseQuery:
    """What a learner or the deep-linking picker is looking for (B2)."""

    q: str = ""
    topic: str = ""
    language: str = ""
    provider: str = ""
    format: str = ""
    category_code: str = ""
    min_hours: Decimal | None = None
    max_hours: Decimal | None = None
    sort: str = "rank"
    page: int = 1
    per_page: int = 20


@dataclass
class Page:
    """One page of courses and how many there are in all."""

    items: list[CatalogCourse]
    total: int
    page: int
    per_page: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """Tell whether another page follows."""
        return self.page < self.pages


_QUERY_KEYS = {"q", "topic", "language", "provider", "format", "category_code", "min_hours", "max_hours",
               "sort", "page", "per_page"}


def parse_query(args: dict[str, str], *, strict: bool, codes: Mapping[str, Any] | None = None) -> CourseQuery:
    """Turn query-string arguments into a CourseQuery; strict refuses unknown parameters (the JSON API).

    `codes` is the category-code table in force (`category_codes(session)`); without it, the shipped one.
    """
    if strict:
        unknown = sorted(set(args) - _QUERY_KEYS - {"lang"})
        if unknown:
            raise BadRequest(f"Unknown query parameter {unknown[0]!r}; use {', '.join(sorted(_QUERY_KEYS))}.")
    query = CourseQuery(
        q=args.get("q", "")[:200], topic=args.get("topic", "")[:60], language=args.get("language", "")[:20],
        provider=args.get("provider", "")[:60], format=args.get("format", "")[:20],
        category_code=args.get("category_code", "")[:10],
    )
    if query.format and query.format not in {f.value for f in Format}:
        raise BadRequest(f"Unknown format {query.format!r}; use {', '.join(f.value for f in Format)}.")
    if query.category_code and query.category_code.strip() not in (default_codes() if codes is None else codes):
        raise BadRequest(f"Category code {query.category_code!r} is not in the lifelong-learning portal's code table.")
    for name in ("min_hours", "max_hours"):
        raw = args.get(name, "").strip()
        if raw:
            try:
                value = Decimal(raw)
            except ArithmeticError:
                raise BadRequest(f"{name} must be a number of hours, got {raw[:20]!r}.") from None
            if not value.is_finite() or value < 0:
                raise BadRequest(f"{name} must be a number of hours of 0 or more, got {raw[:20]!r}.")
            setattr(query, name, value)
    sort = args.get("sort", "rank") or "rank"
    if sort not in SORTS:
        raise BadRequest(f"Unknown sort {sort!r}; use {', '.join(SORTS)}.")
    query.sort = sort
    for name, low, high in (("page", 1, 10_000), ("per_page", 1, MAX_PER_PAGE)):
        raw = args.get(name, "").strip()
        if raw:
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {raw[:20]!r}.")
            setattr(query, name, int(raw))
    return query


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: CourseQuery, statuses: Sequence[Status]) -> Select[CatalogCourse]:
    stmt = select(CatalogCourse).where(CatalogCourse.status.in_([s.value for s in statuses]))
    for term in search_terms(query.q):
        stmt = stmt.where(CatalogCourse.search_text.like(f"%{_like_escape(term)}%", escape="\\"))
    if query.topic:
        stmt = stmt.where(CatalogCourse.topics_text.like(f"%|{_like_escape(query.topic)}|%", escape="\\"))
    if query.language:
        stmt = stmt.where(or_(
            CatalogCourse.languages_text.like(f"%|{_like_escape(query.language)}|%", escape="\\"),
            CatalogCourse.subtitle_languages_text.like(f"%|{_like_escape(query.language)}|%", escape="\\"),
        ))
    if query.provider:
        stmt = stmt.where(CatalogCourse.provider_id.in_(
            select(CatalogProvider.id).where(CatalogProvider.key == query.provider)))
    if query.format:
        stmt = stmt.where(CatalogCourse.format == query.format)
    if query.category_code:
        stmt = stmt.where(exists().where(and_(CatalogSegment.course_id == CatalogCourse.id,
                                              CatalogSegment.category_code == query.category_code)))
    if query.min_hours is not None:
        stmt = stmt.where(CatalogCourse.hours_tenths >= hours_to_tenths(query.min_hours))
    if query.max_hours is not None:
        stmt = stmt.where(CatalogCourse.hours_tenths <= hours_to_tenths(query.max_hours))
    return stmt


def find_courses(session: Session, query: CourseQuery,
                 statuses: Sequence[Status] = (Status.PUBLISHED,)) -> Page:
    """Search and filter courses in the given statuses and return one page."""
    stmt = _filtered(query, statuses)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order: tuple[Any, ...] = {
        "rank": (CatalogCourse.rank_score.desc(), CatalogCourse.code),
        "new": (CatalogCourse.listed_at.desc(), CatalogCourse.code),
        "title": (CatalogCourse.title_en, CatalogCourse.code),
        "hours": (CatalogCourse.hours_tenths.desc(), CatalogCourse.code),
    }[query.sort]
    items = list(session.scalars(stmt.order_by(*order).offset((query.page - 1) * query.per_page).limit(query.per_page)))
    return Page(items, total, query.page, query.per_page)


def find_published(session: Session, query: CourseQuery) -> Page:
    """Search published courses only: the function the deep-linking picker and learner pages call."""
    return find_courses(session, query, (Status.PUBLISHED,))


def facets(session: Session) -> dict[str, list[Any]]:
    """Return the values the browse filters offer, taken from published courses."""
    rows = session.execute(select(CatalogCourse.topics_text, CatalogCourse.languages_text,
                                  CatalogCourse.subtitle_languages_text)
                           .where(CatalogCourse.status == Status.PUBLISHED.value)).all()
    topics: set[str] = set()
    languages: set[str] = set()
    for topics_text, languages_text, subtitles_text in rows:
        topics.update(t for t in topics_text.strip("|").split("|") if t)
        languages.update(t for t in (languages_text + subtitles_text).replace("||", "|").strip("|").split("|") if t)
    providers = list(session.scalars(
        select(CatalogProvider).where(CatalogProvider.id.in_(
            select(CatalogCourse.provider_id).where(CatalogCourse.status == Status.PUBLISHED.value)))
        .order_by(CatalogProvider.name_en)))
    codes = sorted(set(session.scalars(
        select(CatalogSegment.category_code).join(CatalogCourse)
        .where(CatalogCourse.status == Status.PUBLISHED.value))), key=lambda c: (len(c), c))
    return {"topics": sorted(topics, key=normalise_search), "languages": sorted(languages),
            "providers": providers, "codes": codes}


def new_and_updated(session: Session, *, days: int = 90, limit: int = 20) -> list[CatalogCourse]:
    """Return published courses first listed or changed in the last `days` days, newest first (B5)."""
    since = utcnow() - dt.timedelta(days=days)
    return list(session.scalars(
        select(CatalogCourse).where(CatalogCourse.status == Status.PUBLISHED.value, CatalogCourse.listed_at >= since)
        .order_by(CatalogCourse.listed_at.desc(), CatalogCourse.code).limit(limit)))


# ---- ranking signals, recommendations, reviews ------------------------------------------------

def _recommended(session: Session, course: CatalogCourse) -> bool:
    return session.scalar(select(CatalogRecommendation.id).where(
        CatalogRecommendation.course_id == course.id).limit(1)) is not None


def _rerank(session: Session, course: CatalogCourse) -> None:
    course.rank_score = rank_score(course.launch_count, course.completion_count, course.rating_sum,
                                   course.rating_count, _recommended(session, course))


def record_learning_activity(session: Session, code: str, *, launches: int = 0, completions: int = 0) -> CatalogCourse:
    """Count launches and completions of a course and refresh its ranking (called by the learning player)."""
    if launches < 0 or completions < 0:
        raise BadRequest("Launch and completion counts only grow.")
    course = get_course(session, code)
    # Increment in SQL so that concurrent workers never lose a count.
    session.execute(
        update(CatalogCourse).where(CatalogCourse.id == course.id).values(
            launch_count=CatalogCourse.launch_count + launches,
            completion_count=CatalogCourse.completion_count + completions,
        ).execution_options(synchronize_session=False)
    )
    session.refresh(course)
    _rerank(session, course)
    return course


def add_recommendation(session: Session, course: CatalogCourse, expert_name: str, expert_title: str,
                       reason: str, actor: str) -> CatalogRecommendation:
    """Record an expert's recommendation with its reason and lift the course's ranking."""
    expert_name, expert_title, reason = expert_name.strip(), expert_title.strip(), reason.strip()
    if not expert_name or not reason:
        raise BadRequest("A recommendation needs the expert's name and the reason.")
    if len(expert_name) > 120 or len(expert_title) > 200 or len(reason) > 2000:
        raise BadRequest("Keep the name to 120, the title to 200 and the reason to 2000 characters.")
    recommendation = CatalogRecommendation(course_id=course.id, expert_name=expert_name, expert_title=expert_title,
                                           reason=reason, created_by=actor)
    session.add(recommendation)
    session.flush()
    _history(session, course, actor, "recommend", {"expert": [None, expert_name]}, reason)
    _rerank(session, course)
    return recommendation


def recommendations(session: Session, course: CatalogCourse) -> list[CatalogRecommendation]:
    """Return a course's expert recommendations, oldest first."""
    return list(session.scalars(select(CatalogRecommendation).where(
        CatalogRecommendation.course_id == course.id).order_by(CatalogRecommendation.id)))


REVIEWS_PER_CLIENT_PER_DAY = 5


def submit_review(session: Session, course: CatalogCourse, rating: str | int, text: str, author_name: str,
                  client_hash: str = "") -> CatalogReview:
    """Store a learner's rating and review, pending moderation (never shown before approval)."""
    if course.status_enum is not Status.PUBLISHED:
        raise NotFound("Only published courses take reviews.")
    if client_hash:
        since = utcnow() - dt.timedelta(days=1)
        sent = session.scalar(select(func.count()).select_from(CatalogReview).where(
            CatalogReview.client_hash == client_hash, CatalogReview.created_at >= since)) or 0
        if sent >= REVIEWS_PER_CLIENT_PER_DAY:
            raise TooManyReviews("You have sent many reviews today; please wait until tomorrow to send more.")
    try:
        stars = int(str(rating).strip())
    except ValueError:
        raise BadRequest("Choose a rating from 1 to 5 stars.") from None
    if not 1 <= stars <= 5:
        raise BadRequest("Choose a rating from 1 to 5 stars.")
    text, author_name = text.strip(), author_name.strip()
    if len(text) > 1000:
        raise BadRequest(f"Keep the review to 1000 characters (it has {len(text)}).")
    if len(author_name) > 80:
        raise BadRequest("Keep the name to 80 characters.")
    review = CatalogReview(course_id=course.id, rating=stars, text=text, author_name=author_name,
                           client_hash=client_hash)
    session.add(review)
    session.flush()
    return review


def moderate_review(session: Session, review_id: int, approve: bool, actor: str) -> CatalogReview:
    """Approve or reject a pending review; approved ratings count toward the course's average."""
    review = session.get(CatalogReview, review_id)
    if review is None:
        raise NotFound(f"No review has the number {review_id}.")
    if review.status != "pending":
        raise Conflict(f"This review was already {review.status}.")
    review.status = "approved" if approve else "rejected"
    review.moderated_by, review.moderated_at = actor, utcnow()
    course = session.get(CatalogCourse, review.course_id)
    assert course is not None
    if approve:
        course.rating_sum += review.rating
        course.rating_count += 1
        _rerank(session, course)
    return review


def approved_reviews(session: Session, course: CatalogCourse, limit: int = 50) -> list[CatalogReview]:
    """Return the approved reviews of a course, newest first."""
    return list(session.scalars(select(CatalogReview).where(
        CatalogReview.course_id == course.id, CatalogReview.status == "approved")
        .order_by(CatalogReview.id.desc()).limit(limit)))


def pending_reviews(session: Session) -> list[tuple[CatalogReview, CatalogCourse]]:
    """Return reviews waiting for moderation with their courses, oldest first."""
    rows = session.execute(select(CatalogReview, CatalogCourse).join(
        CatalogCourse, CatalogCourse.id == CatalogReview.course_id)
        .where(CatalogReview.status == "pending").order_by(CatalogReview.id)).all()
    return [(review, course) for review, course in rows]


# ---- dashboard ----------------------------------------------------------------------------------

DEAD_OUTCOMES = ("dead", "timeout", "error")


def dashboard(session: Session, *, licence_warning_days: int = 60) -> dict[str, Any]:
    """Collect what curators should act on: reviews to do, dead links, licences ending (B5)."""
    today = utcnow().astimezone(TAIPEI).date()  # licence dates are Taiwan calendar dates
    counts = dict(session.execute(select(CatalogCourse.status, func.count()).group_by(CatalogCourse.status)).all())
    return {
        "counts": {status.value: counts.get(status.value, 0) for status in Status},
        "in_review": list(session.scalars(select(CatalogCourse).where(
            CatalogCourse.status == Status.IN_REVIEW.value).order_by(CatalogCourse.updated_at))),
        "drafts": list(session.scalars(select(CatalogCourse).where(
            CatalogCourse.status == Status.DRAFT.value).order_by(CatalogCourse.updated_at.desc()).limit(50))),
        "dead_links": list(session.scalars(select(CatalogCourse).where(
            CatalogCourse.status != Status.RETIRED.value, CatalogCourse.link_status.in_(DEAD_OUTCOMES))
            .order_by(CatalogCourse.code))),
        "licences": list(session.scalars(select(CatalogCourse).where(
            CatalogCourse.status != Status.RETIRED.value, CatalogCourse.licence_until.is_not(None),
            CatalogCourse.licence_until <= today + dt.timedelta(days=licence_warning_days))
            .order_by(CatalogCourse.licence_until))),
        "pending_reviews": session.scalar(select(func.count()).select_from(CatalogReview).where(
            CatalogReview.status == "pending")) or 0,
        "flagged_pass_marks": list(session.scalars(select(CatalogCourse).where(
            CatalogCourse.status != Status.RETIRED.value, CatalogCourse.pass_mark_defaulted.is_(True))
            .order_by(CatalogCourse.code))),
        "today": today,
    }


def all_courses(session: Session, statuses: Sequence[Status] | None = None) -> list[CatalogCourse]:
    """Return every course (optionally in some statuses) by code, for export and link checks."""
    stmt = select(CatalogCourse).order_by(CatalogCourse.code)
    if statuses:
        stmt = stmt.where(CatalogCourse.status.in_([s.value for s in statuses]))
    return list(session.scalars(stmt))
