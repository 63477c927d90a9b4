"""Serve the zone to learners: browse and search, course pages, reviews, and the JSON API (B2, B6)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from lrs.db import get_session
from lrs.errors import AppError, BadRequest
from lti_tool.catalog import service
from lti_tool.catalog.domain import (
    FORMAT_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    PROVIDER_TYPE_LABELS,
    STATUS_LABELS,
    Format,
    format_hours,
)
from lti_tool.catalog.models import CatalogCourse, CatalogProvider

bp = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")
api_bp = Blueprint("catalog_api", __name__, url_prefix="/api/courses")


def is_chinese() -> bool:
    """Tell whether the page is being shown in Chinese."""
    return str(get_locale() or "zh").startswith("zh")


def course_title(course: CatalogCourse) -> str:
    """Return the course title in the page's language."""
    return course.title_zh if is_chinese() else course.title_en


def other_title(course: CatalogCourse) -> str:
    """Return the course title in the other language."""
    return course.title_en if is_chinese() else course.title_zh


def course_description(course: CatalogCourse) -> str:
    """Return the description in the page's language, falling back to the other one."""
    first, second = ((course.description_zh, course.description_en) if is_chinese()
                     else (course.description_en, course.description_zh))
    return first or second


def provider_name(provider: CatalogProvider) -> str:
    """Return the provider's name in the page's language."""
    return provider.name_zh if is_chinese() else provider.name_en


def request_codes() -> dict[str, Any]:
    """Return the category codes in force, read once per request (pages name many codes)."""
    table: dict[str, Any] | None = g.get("catalog_codes")
    if table is None:
        table = g.catalog_codes = service.category_codes(get_session())
    return table


def code_name(code: str) -> str:
    """Return a category code with its name."""
    entry = request_codes().get(code)
    return f"{code} {entry.name}" if entry else code


def language_name(tag: str) -> str:
    """Return a language's name in the page's language."""
    return _(LANGUAGE_LABELS[tag]) if tag in LANGUAGE_LABELS else tag


def template_helpers() -> dict[str, Any]:
    """Give catalog templates their helpers, prefixed so that no other area's names clash."""
    return {
        "catalog_title": course_title,
        "catalog_other_title": other_title,
        "catalog_description": course_description,
        "catalog_provider_name": provider_name,
        "catalog_code_name": code_name,
        "catalog_language": language_name,
        "catalog_hours": format_hours,
        "catalog_format_label": lambda value: _(FORMAT_LABELS[Format(value)]),
        "catalog_kind_label": lambda value: _(KIND_LABELS.get(value, value)),
        "catalog_status_label": lambda value: _(STATUS_LABELS.get(value, value)),
        "catalog_provider_type": lambda value: _(PROVIDER_TYPE_LABELS.get(value, value)),
        "catalog_formats": [(f.value, FORMAT_LABELS[f]) for f in Format],
    }


def _page_url(**changes: Any) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if v}
    args.update({k: str(v) for k, v in changes.items()})
    return url_for("catalog.browse", **args)


@bp.route("")
def browse() -> Any:
    """Browse and search published courses with filters (B2)."""
    session = get_session()
    error = None
    try:
        query = service.parse_query(request.args.to_dict(), strict=False, codes=request_codes())
    except BadRequest as err:
        error = err.message
        query = service.CourseQuery()
    page = service.find_published(session, query)
    return render_template(
        "catalog/browse.html", page=page, query=query, facets=service.facets(session), error=error,
        page_url=_page_url, recent=service.new_and_updated(session, limit=5) if not request.args else [],
    )


@bp.route("/new")
def new_and_updated() -> Any:
    """List courses added or changed recently (B5)."""
    return render_template("catalog/new.html", courses=service.new_and_updated(get_session(), limit=50))


@bp.route("/<code>")
def course_page(code: str) -> Any:
    """Show one published course with its hours, licence, recommendations and approved reviews."""
    session = get_session()
    course = service.get_published_course(session, code)
    if course.code != code:
        return redirect(url_for("catalog.course_page", code=course.code), 301)
    return render_template(
        "catalog/course.html", course=course, recommendations=service.recommendations(session, course),
        reviews=service.approved_reviews(session, course),
    )


def _client_hash() -> str:
    # Keyed with the app's secret so that the stored value reveals no address; the address comes
    # from ProxyFix (PROXY_COUNT) when behind a proxy.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"review-client:{request.remote_addr}".encode(), hashlib.sha256).hexdigest()


@bp.route("/<code>/reviews", methods=["POST"])
def post_review(code: str) -> Any:
    """Take a learner's rating and short review, to be shown after moderation (B6)."""
    session = get_session()
    course = service.get_published_course(session, code)
    try:
        service.submit_review(session, course, request.form.get("rating", ""), request.form.get("text", ""),
                              request.form.get("author_name", ""), _client_hash())
    except AppError as err:
        session.rollback()
        flash(_(err.message), "error")
        return redirect(url_for("catalog.course_page", code=course.code) + "#review-form")
    session.commit()
    flash(_("Thank you. Your review will appear once a curator has checked it."), "success")
    return redirect(url_for("catalog.course_page", code=course.code) + "#reviews")


# ---- JSON ------------------------------------------------------------------------------------

def course_json(course: CatalogCourse, *, detail: bool = False) -> dict[str, Any]:
    """Describe a course as JSON for the API and the deep-linking picker."""
    provider = course.provider
    codes = request_codes()
    body: dict[str, Any] = {
        "code": course.code,
        "kind": course.kind,
        "status": course.status,
        "title": {"zh-Hant": course.title_zh, "en": course.title_en},
        "provider": {"key": provider.key, "name": {"zh-Hant": provider.name_zh, "en": provider.name_en},
                     "country": provider.country, "type": provider.kind},
        "platform": course.platform,
        "format": course.format,
        "languages": course.languages,
        "subtitle_languages": course.subtitle_languages,
        "hours": float(course.hours),
        "segments": [{"code": s.category_code, "name": codes[s.category_code].name if s.category_code in codes else "",
                      "hours": float(s.hours)} for s in course.segments],
        "topics": course.topics,
        "url": course.url,
        "rating": {"average": course.rating_average, "count": course.rating_count},
        "links": {"self": url_for("catalog_api.one", code=course.code, _external=True),
                  "page": url_for("catalog.course_page", code=course.code, _external=True)},
    }
    if detail:
        body.update({
            "description": {"zh-Hant": course.description_zh, "en": course.description_en},
            "embed_url": course.embed_url or None,
            "licence": {"holder": course.licence_holder, "agreement": course.licence_agreement,
                        "until": course.licence_until.isoformat() if course.licence_until else None},
            "effort": course.effort,
            "effort_hours": float(course.effort_hours) if course.effort_hours is not None else None,
            "digital_hours": float(course.digital_hours),
            "physical_hours": float(course.physical_hours),
            "learning_nature": course.learning_nature,
            "has_test": course.has_test,
            "pass_mark": course.pass_mark,
            "pass_mark_defaulted": course.pass_mark_defaulted,
            "survey_required": course.survey_required,
            "cross_year_repeat": course.cross_year_repeat,
            "class_period": {"start": course.class_start.isoformat() if course.class_start else None,
                             "end": course.class_end.isoformat() if course.class_end else None},
            "tags": course.tags,
            "signals": {"launches": course.launch_count, "completions": course.completion_count,
                        "completion_rate": course.completion_rate, "rank_score": course.rank_score},
            "published_at": course.published_at.isoformat() if course.published_at else None,
            "updated_at": course.listed_at.isoformat() if course.listed_at else None,
        })
    return body


@api_bp.route("")
def list_courses() -> Response:
    """List published courses with paging and the browse filters, as JSON."""
    query = service.parse_query(request.args.to_dict(), strict=True, codes=request_codes())
    page = service.find_published(get_session(), query)
    body: dict[str, Any] = {
        "items": [course_json(course) for course in page.items],
        "page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages,
        "next": None,
    }
    if page.has_next:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
        body["next"] = url_for("catalog_api.list_courses", page=page.page + 1, _external=True, **args)
    return jsonify(body)


@api_bp.route("/<code>")
def one(code: str) -> Response:
    """Describe one published course as JSON."""
    return jsonify(course_json(service.get_published_course(get_session(), code), detail=True))

