"""Serve the curators' pages: dashboard, course forms, review checklist, workflow, moderation, import (B3-B6)."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from lrs.db import get_db, get_session, utcnow
from lrs.errors import AppError, BadRequest, NotFound
from lrs.staff import Role, staff_required
from lti_tool.catalog import importer, linkcheck, service
from lti_tool.catalog.domain import (
    CHECKLIST,
    COURSE_FIELDS,
    PROVIDER_TYPE_LABELS,
    STATUS_LABELS,
    Action,
    Kind,
    Problem,
    ProviderType,
    Status,
    ValidationFailed,
    review_flags,
)
from lti_tool.catalog.models import CatalogCourse, CatalogImportJob, CatalogLinkCheck

bp = Blueprint("catalog_manage", __name__, url_prefix="/catalog/manage", template_folder="templates")

FLAG_FIELDS = ("has_test", "survey_required", "cross_year_repeat")
FORM_FIELDS = tuple(name for name in COURSE_FIELDS if name != "status")


def _actor() -> str:
    return str(g.staff_user.username)


def _form_raw() -> dict[str, Any]:
    raw: dict[str, Any] = {name: request.form.get(name, "") for name in FORM_FIELDS}
    for name in FLAG_FIELDS:
        raw[name] = "yes" if request.form.get(name) else "no"
    return raw


def _form_values(course: CatalogCourse | None) -> dict[str, Any]:
    if course is None:
        return {"has_test": True, "survey_required": True, "cross_year_repeat": False, "kind": Kind.COURSE.value,
                "provider_type": ProviderType.UNIVERSITY.value, "languages": "en", "subtitle_languages": ""}
    values = service.snapshot(course)
    values["segments"] = "; ".join(f"{s['code']}:{s['hours']}" for s in values["segments"])
    for name in ("languages", "subtitle_languages", "topics", "tags"):
        values[name] = "; ".join(values[name])
    return values


def _problems_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem.text(_))
    return grouped


def _render_form(course: CatalogCourse | None, values: dict[str, Any], problems: list[Problem], status: int = 200) -> Any:
    return render_template(
        "catalog/manage/form.html", course=course, values=values, errors=_problems_by_field(problems),
        provider_types=[(t.value, PROVIDER_TYPE_LABELS[t]) for t in ProviderType], kinds=list(Kind),
    ), status


@bp.route("")
@staff_required(Role.CURATOR)
def dashboard() -> Any:
    """Show what curators should act on: reviews, dead links, licences ending, flagged pass marks."""
    days = int(current_app.config.get("CATALOG_LICENCE_WARNING_DAYS", 60))
    return render_template("catalog/manage/dashboard.html", board=service.dashboard(get_session(), licence_warning_days=days),
                           warning_days=days)


@bp.route("/courses")
@staff_required(Role.CURATOR)
def courses() -> Any:
    """List and search courses in every status, to find one to edit."""
    args = request.args.to_dict()
    status = args.pop("status", "")
    statuses = [Status(status)] if status in {s.value for s in Status} else list(Status)
    error = None
    try:
        query = service.parse_query(args, strict=False, codes=service.category_codes(get_session()))
    except AppError as err:
        error, query = err.message, service.CourseQuery()
    query.per_page = 50
    page = service.find_courses(get_session(), query, statuses)
    return render_template("catalog/manage/courses.html", page=page, query=query, status=status, error=error,
                           statuses=list(Status))


@bp.route("/codes")
@staff_required(Role.CURATOR)
def codes() -> Any:
    """List the lifelong-learning portal's category codes a segment may use."""
    table = service.category_codes(get_session())
    return render_template("catalog/manage/codes.html", codes=[table[key] for key in sorted(table, key=lambda c: (len(c), c))])


@bp.route("/new", methods=["GET", "POST"])
@staff_required(Role.CURATOR)
def create() -> Any:
    """Create a course as a draft."""
    if request.method == "GET":
        return _render_form(None, _form_values(None), [])
    raw = _form_raw()
    session = get_session()
    try:
        data = service.validate(raw, service.category_codes(session))
        course = service.create_course(session, data, _actor())
    except ValidationFailed as err:
        session.rollback()
        return _render_form(None, raw, err.problems, 400)
    except AppError as err:
        session.rollback()
        return _render_form(None, raw, [Problem("code", err.message)], 409)
    session.commit()
    flash(_("The course %(code)s was saved as a draft.", code=course.code), "success")
    return redirect(url_for("catalog_manage.detail", code=course.code))


@bp.route("/<code>")
@staff_required(Role.CURATOR)
def detail(code: str) -> Any:
    """Show a course in any status with its review flags, workflow actions and full history."""
    session = get_session()
    course = service.get_course(session, code)
    checks = list(session.scalars(select(CatalogLinkCheck).where(CatalogLinkCheck.course_id == course.id)
                                  .order_by(CatalogLinkCheck.id.desc()).limit(10)))
    return render_template(
        "catalog/manage/detail.html", course=course, history=service.history(session, course),
        flags=review_flags(course), checks=checks, recommendations=service.recommendations(session, course),
        checklist=CHECKLIST, Status=Status,
    )


@bp.route("/<code>/edit", methods=["GET", "POST"])
@staff_required(Role.CURATOR)
def edit(code: str) -> Any:
    """Edit a course; every changed field is kept in its history."""
    session = get_session()
    course = service.get_course(session, code)
    if request.method == "GET":
        return _render_form(course, _form_values(course), [])
    raw = _form_raw()
    raw["code"] = course.code
    try:
        version = int(request.form.get("version", "0"))
    except ValueError:
        raise BadRequest("The form is damaged; reload the page.") from None
    try:
        changes = service.update_course(session, course, service.validate(raw, service.category_codes(session)), _actor(), version)
    except ValidationFailed as err:
        session.rollback()
        return _render_form(course, raw, err.problems, 400)
    except AppError as err:
        session.rollback()
        return _render_form(course, raw, [Problem("", err.message)], err.status)
    session.commit()
    flash(_("Saved %(count)s changes.", count=len(changes)) if changes else _("Nothing changed."), "success")
    return redirect(url_for("catalog_manage.detail", code=course.code))


@bp.route("/<code>/review", methods=["GET", "POST"])
@staff_required(Role.CURATOR)
def review(code: str) -> Any:
    """Review a course against the written quality checklist: approve it, or return it with a note."""
    session = get_session()
    course = service.get_course(session, code)
    if request.method == "POST":
        decision = request.form.get("decision", "")
        if decision not in {"approve", "return"}:
            raise BadRequest("Choose to approve the course or to return it to its author.")
        checked = request.form.getlist("checklist")
        note = request.form.get("note", "")[:1000]
        try:
            service.apply_action(session, course, Action(decision), _actor(), note=note, checklist=checked,
                                 four_eyes=bool(current_app.config.get("CATALOG_FOUR_EYES", False)))
        except AppError as err:
            session.rollback()
            flash(_(err.message), "error")
            return render_template("catalog/manage/review.html", course=course, checklist=CHECKLIST,
                                   checked=set(checked), note=note, flags=review_flags(course)), err.status
        session.commit()
        flash(_("Approved: the course can now be published.") if decision == "approve"
              else _("Returned to its author as a draft."), "success")
        return redirect(url_for("catalog_manage.detail", code=course.code))
    return render_template("catalog/manage/review.html", course=course, checklist=CHECKLIST, checked=set(),
                           note="", flags=review_flags(course))


@bp.route("/<code>/action", methods=["POST"])
@staff_required(Role.CURATOR)
def action(code: str) -> Any:
    """Submit, publish, retire or reopen a course."""
    session = get_session()
    course = service.get_course(session, code)
    try:
        step = Action(request.form.get("action", ""))
    except ValueError:
        raise BadRequest("Choose submit, publish, retire or reopen.") from None
    if step in (Action.APPROVE, Action.RETURN):
        return redirect(url_for("catalog_manage.review", code=course.code))
    try:
        target = service.apply_action(session, course, step, _actor(), note=request.form.get("note", "")[:1000])
    except AppError as err:
        session.rollback()
        flash(_(err.message), "error")
        return redirect(url_for("catalog_manage.detail", code=course.code))
    session.commit()
    flash(_("The course is now: %(status)s.", status=_(STATUS_LABELS[target])), "success")
    return redirect(url_for("catalog_manage.detail", code=course.code))


@bp.route("/<code>/recommend", methods=["POST"])
@staff_required(Role.CURATOR)
def recommend(code: str) -> Any:
    """Record an expert's recommendation of a course with its reason."""
    session = get_session()
    course = service.get_course(session, code)
    try:
        service.add_recommendation(session, course, request.form.get("expert_name", ""),
                                   request.form.get("expert_title", ""), request.form.get("reason", ""), _actor())
    except AppError as err:
        session.rollback()
        flash(_(err.message), "error")
    else:
        session.commit()
        flash(_("The recommendation was added."), "success")
    return redirect(url_for("catalog_manage.detail", code=course.code) + "#recommendations")


@bp.route("/<code>/check-link", methods=["POST"])
@staff_required(Role.CURATOR)
def check_link(code: str) -> Any:
    """Check one course's address now."""
    session = get_session()
    course = service.get_course(session, code)
    found = linkcheck.check_url(course.url, linkcheck.policy_for(current_app))
    linkcheck.record(session, course, found)
    session.commit()
    flash(_("Link check: %(outcome)s (%(detail)s).", outcome=found.outcome, detail=found.detail), "success")
    return redirect(url_for("catalog_manage.detail", code=course.code))


@bp.route("/reviews", methods=["GET", "POST"])
@staff_required(Role.CURATOR)
def reviews() -> Any:
    """Moderate learners' reviews: nothing shows on a course page before approval."""
    session = get_session()
    if request.method == "POST":
        try:
            review_id = int(request.form.get("review_id", ""))
        except ValueError:
            raise BadRequest("Choose a review.") from None
        decision = request.form.get("decision", "")
        if decision not in {"approve", "reject"}:
            raise BadRequest("Choose to approve or reject the review.")
        service.moderate_review(session, review_id, decision == "approve", _actor())
        session.commit()
        flash(_("Review approved.") if decision == "approve" else _("Review rejected."), "success")
        return redirect(url_for("catalog_manage.reviews"))
    return render_template("catalog/manage/reviews.html", pending=service.pending_reviews(session))


# ---- import and export ------------------------------------------------------------------------

def _limits() -> tuple[int, int]:
    return (int(current_app.config.get("CATALOG_IMPORT_MAX_ROWS", importer.DEFAULT_MAX_ROWS)),
            int(current_app.config.get("CATALOG_IMPORT_MAX_BYTES", importer.DEFAULT_MAX_BYTES)))


def run_import_job(app: Flask, job_id: int, rows: list[dict[str, Any]], actor: str, *, update_existing: bool,
                   partial: bool) -> None:
    """Check and write an uploaded import, recording progress and the report on its job row."""
    database = get_db(app)

    def progress(done: int, total: int) -> None:
        with database.session() as session:
            job = session.get(CatalogImportJob, job_id)
            if job is not None:
                job.checked_rows, job.total_rows = done, total

    try:
        with app.app_context(), database.session() as session:
            report, accepted = importer.check_rows(session, rows, update_existing=update_existing, progress=progress)
        # The writing transaction starts after the checks, and stores the report with the courses.
        with app.app_context(), database.session() as session:
            importer.write_rows(session, report, accepted, actor, update_existing=update_existing, partial=partial)
            job = session.get(CatalogImportJob, job_id)
            assert job is not None
            job.state = "done" if report.written else "refused"
            job.report_json = orjson.dumps(report.as_dict()).decode()
            job.finished_at = utcnow()
    except Exception as err:  # the job must end in a state people can see, whatever went wrong
        message = err.message if isinstance(err, AppError) else "The import failed on our side; nothing was imported."
        if not isinstance(err, AppError):
            app.logger.exception("catalog import %s failed", job_id)
        with database.session() as session:
            job = session.get(CatalogImportJob, job_id)
            if job is not None:
                job.state = "failed"
                job.report_json = orjson.dumps({"message": message, "refused": [], "written": False}).decode()
                job.finished_at = utcnow()


@bp.route("/import", methods=["GET", "POST"])
@staff_required(Role.CURATOR)
def import_page() -> Any:
    """Upload a CSV or JSON file; it is checked row by row in the background while the page shows progress."""
    if request.method == "GET":
        return render_template("catalog/manage/import.html", columns=FORM_FIELDS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or JSON file to import."), "error")
        return render_template("catalog/manage/import.html", columns=FORM_FIELDS), 400
    max_rows, max_bytes = _limits()
    content = upload.stream.read(max_bytes + 1)
    try:
        rows = importer.parse_rows(content, upload.filename, max_rows=max_rows, max_bytes=max_bytes)
    except AppError as err:
        flash(_(err.message), "error")
        return render_template("catalog/manage/import.html", columns=FORM_FIELDS), err.status
    session = get_session()
    job = CatalogImportJob(created_by=_actor(), filename=upload.filename[:255], state="running", total_rows=len(rows))
    session.add(job)
    session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = threading.Thread(
        target=run_import_job, args=(app, job.id, rows, _actor()),
        kwargs={"update_existing": bool(request.form.get("update_existing")), "partial": bool(request.form.get("partial"))},
        name=f"catalog-import-{job.id}", daemon=True,
    )
    worker.start()
    return redirect(url_for("catalog_manage.import_job", job_id=job.id))


def _job(job_id: int) -> CatalogImportJob:
    job = get_session().get(CatalogImportJob, job_id)
    if job is None:
        raise NotFound(f"No import has the number {job_id}.")
    return job


def _job_body(job: CatalogImportJob) -> dict[str, Any]:
    report = orjson.loads(job.report_json or "{}")
    return {"id": job.id, "state": job.state, "filename": job.filename, "total_rows": job.total_rows,
            "checked_rows": job.checked_rows, "report": report}


@bp.route("/imports/<int:job_id>")
@staff_required(Role.CURATOR)
def import_job(job_id: int) -> Any:
    """Show an import's progress (refreshing while it runs) and then its report."""
    job = _job(job_id)
    return render_template("catalog/manage/import_job.html", job=job, body=_job_body(job))


@bp.route("/imports/<int:job_id>.json")
@staff_required(Role.CURATOR)
def import_job_json(job_id: int) -> Response:
    """Give an import's progress and report as JSON."""
    return jsonify(_job_body(_job(job_id)))


@bp.route("/export.<fmt>")
@staff_required(Role.CURATOR)
def export(fmt: str) -> Response:
    """Download the whole catalog as CSV or JSON, in the import's format."""
    session = get_session()
    stamp = utcnow().strftime("%Y%m%d")
    if fmt == "csv":
        # A byte-order mark lets spreadsheet programs read the UTF-8 Chinese text correctly.
        body = "\ufeff" + importer.export_csv(session)
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=catalog-{stamp}.csv"})
    if fmt == "json":
        return Response(importer.export_json(session), mimetype="application/json", headers={
            "Content-Disposition": f"attachment; filename=catalog-{stamp}.json"})
    raise NotFound("Export as export.csv or export.json.")
