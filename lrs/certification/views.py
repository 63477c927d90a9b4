"""Serve the certification staff pages at /certification and the JSON API at /api/certification (D4).

Every route needs a staff login with the certification role (administrators pass); IDs are shown
masked everywhere; only the export download contains them in clear.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from lrs.certification import codes, evidence, explain_i18n, ledger, people, registry, reports, rules, settings
from lrs.certification.models import ActorLink, AuditEntry, Course, Credit, Override, Person
from lrs.certification.rules import TAIPEI, RuleError
from lrs.db import get_session
from lrs.errors import BadRequest, Conflict, NotFound, error_response, wants_json
from lrs.staff import Role, staff_required
from lrs.staff.views import register_staff_link

bp = Blueprint("certification", __name__, url_prefix="/certification", template_folder="templates")
api = Blueprint("certification_api", __name__, url_prefix="/api/certification")
PAGE_SIZE = 50
VERBS = ("completed", "passed", "failed", "progressed", "launched", "initialized", "terminated", "answered", "voided")


def _today() -> dt.date:
    return dt.datetime.now(TAIPEI).date()


def _year() -> int:
    raw = request.args.get("year") or request.form.get("year") or ""
    if not raw:
        return _today().year
    try:
        year = int(raw)
    except ValueError:
        raise BadRequest(_("The year must be a number such as 2026.")) from None
    if not 2000 <= year <= 2100:
        raise BadRequest(_("The year must be between 2000 and 2100."))
    return year


def _agency() -> str | None:
    value = (request.args.get("agency") or request.form.get("agency") or "").strip().upper()
    if value and (len(value) != 10 or not value.isalnum()):
        raise BadRequest(_("An agency code has 10 letters or digits, such as 379680000A."))
    return value or None


def _date_arg(name: str) -> dt.datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(0, 0), TAIPEI)
    except ValueError:
        raise BadRequest(_("Dates are written like 2026-03-05.")) from None


def _who() -> str:
    return str(g.staff_user.username)


# --- statement explorer -----------------------------------------------------------------------------------------


def _explorer_data() -> dict[str, Any]:
    db = get_session()
    actor_keys = None
    person_id = request.args.get("person", type=int)
    agency = _agency()
    if person_id or agency:
        # A subquery, not a list: an agency may have more people than a query may carry parameters.
        actor_keys = select(ActorLink.actor_key).join(Person, Person.id == ActorLink.person_id)
        actor_keys = actor_keys.where(Person.id == person_id) if person_id else actor_keys.where(Person.agency_code == agency)
    activity = None
    course_code = (request.args.get("course") or "").strip()
    if course_code:
        activity = registry.get_course(db, course_code).activity_id
    verb = (request.args.get("verb") or "").strip()
    if verb and verb not in VERBS:
        raise BadRequest(_("Unknown verb; choose one from the list."))
    since, until = _date_arg("from"), _date_arg("to")
    if until is not None:
        until += dt.timedelta(days=1)
    before = request.args.get("before", type=int)
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int), 1), 200)
    rows = evidence.explore(db, actor_keys=actor_keys, activity_id=activity, verb=evidence.ADL + verb if verb else None,
                            since=since, until=until, before_pk=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    keys = {r["actor_key"] for r in rows if r["actor_key"]}
    mapped = {}
    if keys:
        for link, person in db.execute(select(ActorLink, Person).join(Person, Person.id == ActorLink.person_id)
                                       .where(ActorLink.actor_key.in_(keys))):
            mapped[link.actor_key] = {"id": person.id, "name": person.name, "id_number": person.id_masked,
                                      "agency_code": person.agency_code}
    for row in rows:
        row["person"] = mapped.get(row["actor_key"])
    return {"statements": rows, "next_before": rows[-1]["pk"] if more and rows else None}


@bp.route("/statements")
@staff_required(Role.CERTIFICATION)
def statements() -> Any:
    """Explore the LRS's statements by person, agency, course, verb and dates, with paging."""
    data = _explorer_data()
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("certification/statements.html", data=data, args=args, verbs=VERBS)


@api.route("/statements")
@staff_required(Role.CERTIFICATION)
def api_statements() -> Any:
    """Return explorer statements as JSON (`next_before` pages to older ones)."""
    return jsonify(_explorer_data())


# --- home, people and transcripts --------------------------------------------------------------------------------


@bp.route("/")
@staff_required(Role.CERTIFICATION)
def home() -> Any:
    """Show the certification dashboard."""
    db = get_session()
    counts = {
        "people": db.scalar(select(func.count()).select_from(Person)) or 0,
        "courses": db.scalar(select(func.count()).select_from(Course)) or 0,
    }
    recent = list(db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10)))
    return render_template("certification/home.html", counts=counts, year=_today().year, recent=recent)


@bp.route("/people", methods=["GET", "POST"])
@staff_required(Role.CERTIFICATION)
def people_page() -> Any:
    """List and search people; register a person with their ID number and LMS account."""
    db = get_session()
    if request.method == "POST":
        form = request.form
        person = people.register_person(
            db, settings.get_vault(), name=form.get("name", ""), agency_code=form.get("agency_code", ""),
            id_number=form.get("id_number", ""), category=form.get("category", "permanent"),
            security_role=form.get("security_role", "general"), allow_passport=settings.allow_passport(), by=_who())
        if form.get("home_page") and form.get("account_name"):
            people.link_actor(db, person, form["home_page"], form["account_name"], by=_who())
        db.commit()
        flash(_("Person registered."), "success")
        return redirect(url_for("certification.person_page", person_id=person.id))
    query = select(Person).order_by(Person.name, Person.id)
    search = (request.args.get("q") or "").strip()
    if search:
        found = people.find_by_id_number(db, settings.get_vault(), search)
        query = query.where(Person.id == found.id) if found else query.where(Person.name.contains(search))
    agency = _agency()
    if agency:
        query = query.where(Person.agency_code == agency)
    page = max(request.args.get("page", 1, type=int), 1)
    rows = list(db.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return render_template("certification/people.html", people=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           search=search, agency=agency or "")


def _transcript(person_id: int) -> dict[str, Any]:
    db = get_session()
    person = people.get_person(db, person_id)
    data = reports.transcript(db, person, _year(), settings.profile_book(), _today(), settings.holidays())
    data["person"]["actors"] = [{"home_page": a.home_page, "account_name": a.account_name} for a in people.actors_of(db, person)]
    return data


@bp.route("/people/<int:person_id>")
@staff_required(Role.CERTIFICATION)
def person_page(person_id: int) -> Any:
    """Show a learner's transcript for a year with quota progress, explanations and the override form."""
    data = _transcript(person_id)
    courses = list(get_session().scalars(select(Course).order_by(Course.course_code)))
    overrides = list(get_session().scalars(select(Override).where(Override.person_id == person_id, Override.active.is_(True))))
    return render_template("certification/person.html", data=data, courses=courses, overrides=overrides, year=data["year"])


@api.route("/people/<int:person_id>/transcript")
@staff_required(Role.CERTIFICATION)
def api_transcript(person_id: int) -> Any:
    """Return a learner's transcript for `?year=` as JSON."""
    return jsonify(_transcript(person_id))


@bp.route("/people/<int:person_id>/actors", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def link_actor(person_id: int) -> Any:
    """Map an LMS account to the person."""
    db = get_session()
    person = people.get_person(db, person_id)
    people.link_actor(db, person, request.form.get("home_page", ""), request.form.get("account_name", ""), by=_who())
    ledger.recompute(db, None, person_ids=[person.id])
    db.commit()
    flash(_("Account linked and the ledger recomputed."), "success")
    return redirect(url_for("certification.person_page", person_id=person_id))


@bp.route("/people/<int:person_id>/edit", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def edit_person(person_id: int) -> Any:
    """Change a person's name, agency, staff category or 資安 role (audited)."""
    db = get_session()
    person = people.get_person(db, person_id)
    form = request.form
    people.update_person(db, person, name=form.get("name"), agency_code=form.get("agency_code"), category=form.get("category"),
                         security_role=form.get("security_role"), by=_who())
    db.commit()
    flash(_("Person updated."), "success")
    return redirect(url_for("certification.person_page", person_id=person_id))


@bp.route("/people/<int:person_id>/actors/remove", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def unlink_actor(person_id: int) -> Any:
    """Remove an LMS account mapping from the person and recompute their ledger."""
    db = get_session()
    person = people.get_person(db, person_id)
    people.unlink_actor(db, request.form.get("home_page", ""), request.form.get("account_name", ""), by=_who())
    ledger.recompute(db, None, person_ids=[person.id])
    db.commit()
    flash(_("Account unlinked and the ledger recomputed."), "success")
    return redirect(url_for("certification.person_page", person_id=person_id))


@bp.route("/people/<int:person_id>/overrides", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def add_override(person_id: int) -> Any:
    """Grant or revoke a credit by hand, with a reason."""
    db = get_session()
    person = people.get_person(db, person_id)
    course = registry.get_course(db, request.form.get("course_code", ""))
    completed_on = None
    if request.form.get("completed_on"):
        try:
            completed_on = dt.date.fromisoformat(request.form["completed_on"])
        except ValueError:
            raise BadRequest(_("Dates are written like 2026-03-05.")) from None
    ledger.manual_override(db, person=person, course=course, year=_year(), action=request.form.get("action", ""),
                           reason=request.form.get("reason", ""), by=_who(), completed_on=completed_on)
    db.commit()
    flash(_("Override saved and applied."), "success")
    return redirect(url_for("certification.person_page", person_id=person_id, year=_year()))


@bp.route("/overrides/<int:override_id>/withdraw", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def withdraw_override(override_id: int) -> Any:
    """Withdraw a manual credit or revocation."""
    db = get_session()
    override = db.get(Override, override_id)
    if override is None:
        raise NotFound(_("No such override."))
    ledger.withdraw_override(db, override_id, by=_who(), reason=request.form.get("reason", ""))
    db.commit()
    flash(_("Override withdrawn."), "success")
    return redirect(url_for("certification.person_page", person_id=override.person_id, year=override.year))


# --- compliance and shortfalls ----------------------------------------------------------------------------------


def bar_chart(items: list[tuple[str, float, str]], width: int = 560, height: int = 220) -> dict[str, Any]:
    """Lay out a vertical bar chart for inline SVG: (label, value, shown value) -> bars with positions and labels.

    Long labels are drawn slanted below the axis so they never overlap.
    """
    slanted = any(len(label) > 6 for label, _, _ in items)
    bottom = 90 if slanted else 30
    top = max((value for _, value, _ in items), default=0) or 1
    slot = width / max(len(items), 1)
    plot = height - bottom - 10
    bars = []
    for index, (label, value, shown) in enumerate(items):
        bar_height = plot * value / top
        bars.append({"x": round(index * slot + slot * 0.15, 1), "y": round(10 + plot - bar_height, 1), "w": round(slot * 0.7, 1),
                     "h": round(bar_height, 1), "label": label, "value": shown, "cx": round(index * slot + slot / 2, 1)})
    return {"width": width, "height": height, "bars": bars, "base": 10 + plot, "slanted": slanted}


def _compliance() -> dict[str, Any]:
    return reports.agency_compliance(get_session(), _year(), _agency(), settings.profile_book(), _today(), settings.holidays())


@bp.route("/compliance")
@staff_required(Role.CERTIFICATION)
def compliance() -> Any:
    """Show an agency's year: hours distribution, quota shortfalls and monthly trend, as charts and tables."""
    data = _compliance()
    charts = {
        "distribution": bar_chart([(d["bucket"], d["people"], str(d["people"])) for d in data["distribution"]]),
        "shortfalls": bar_chart([(s["key"].replace("_", " "), s["people"], str(s["people"])) for s in data["shortfalls_by_quota"]]),
        "monthly": bar_chart([(str(m["month"]), float(m["hours"]), m["hours"]) for m in data["monthly_hours"]]),
    }
    return render_template("certification/compliance.html", data=data, charts=charts)


@api.route("/compliance")
@staff_required(Role.CERTIFICATION)
def api_compliance() -> Any:
    """Return an agency's compliance for `?year=&agency=` as JSON."""
    return jsonify(_compliance())


@bp.route("/shortfalls")
@staff_required(Role.CERTIFICATION)
def shortfalls() -> Any:
    """List people short of any quota before their counting cut-off (R15)."""
    data = _compliance()
    return render_template("certification/shortfalls.html", data=data)


@api.route("/shortfalls")
@staff_required(Role.CERTIFICATION)
def api_shortfalls() -> Any:
    """Return the R15 warnings for `?year=&agency=` as JSON."""
    data = _compliance()
    return jsonify({"year": data["year"], "agency": data["agency"], "warnings": data["warnings"]})


@api.route("/credits")
@staff_required(Role.CERTIFICATION)
def api_credits() -> Any:
    """Return a year's ledger rows (of an agency) as JSON, IDs masked, paged by `after` (the last row id)."""
    db = get_session()
    limit = min(max(request.args.get("limit", 500, type=int), 1), 5000)
    query = (select(Credit, Person, Course).join(Person, Person.id == Credit.person_id).join(Course, Course.id == Credit.course_id)
             .where(Credit.year == _year()).order_by(Credit.id).limit(limit + 1))
    if _agency():
        query = query.where(Person.agency_code == _agency())
    status = request.args.get("status")
    if status:
        if status not in ("credited", "refused", "revoked", "in_progress"):
            raise BadRequest(_("Status is credited, refused, revoked or in_progress."))
        query = query.where(Credit.status == status)
    after = request.args.get("after", type=int)
    if after:
        query = query.where(Credit.id > after)
    rows = list(db.execute(query))
    items = [{
        "id": credit.id, "year": credit.year, "status": credit.status, "source": credit.source,
        "person": {"id": person.id, "name": person.name, "agency_code": person.agency_code, "id_number": person.id_masked},
        "course_code": course.course_code, "digital": rules.format_hours(registry.hours(credit.digital_tenths)),
        "physical": rules.format_hours(registry.hours(credit.physical_tenths)), "score": credit.score,
        "completed_at": credit.completed_at.isoformat() if credit.completed_at else None,
        "statement_ids": json.loads(credit.statement_ids), "explanation": json.loads(credit.explanation),
    } for credit, person, course in rows[:limit]]
    return jsonify({"credits": items, "next_after": items[-1]["id"] if len(rows) > limit and items else None})


@bp.route("/recompute", methods=["POST"])
@staff_required(Role.CERTIFICATION)
def recompute() -> Any:
    """Recompute a year's ledger from the LRS."""
    db = get_session()
    done = ledger.recompute(db, [_year()], agency=_agency())
    people.audit(db, _who(), "recompute", f"{_year()} {_agency() or 'all'}", credited=done.credited, revoked=done.revoked)
    db.commit()
    flash(_("Recomputed: %(credited)s credited, %(revoked)s revoked, %(problems)s evidence problems.",
            credited=done.credited, revoked=done.revoked, problems=done.problem_count), "success")
    return redirect(url_for("certification.compliance", year=_year(), agency=_agency() or ""))


# --- registry and codes ------------------------------------------------------------------------------------------


@bp.route("/registry", methods=["GET", "POST"])
@staff_required(Role.CERTIFICATION)
def registry_page() -> Any:
    """List registry entries and create or update one (with a reason for changes)."""
    db = get_session()
    if request.method == "POST":
        form = request.form.to_dict()
        segments = []
        for code, name, hours_text in zip(request.form.getlist("seg_code"), request.form.getlist("seg_name"),
                                          request.form.getlist("seg_hours"), strict=False):
            if code.strip():
                segments.append({"code": code, "name": name, "digital": hours_text or 0})
        form["segments"] = segments  # type: ignore[assignment]
        for flag in ("has_test", "survey_required", "cross_year_repeat", "foreign", "active"):
            form[flag] = "1" if request.form.get(flag) else "0"
        try:
            course = registry.save_course(db, registry.course_input_from_dict(form), codes.code_table(db), by=_who(),
                                          reason=request.form.get("reason", ""), base_url=settings.activity_base())
        except (BadRequest, Conflict) as err:
            db.rollback()
            if wants_json():
                raise
            # Show the form again as typed, with every reason in the page's language: nothing typed is lost.
            problems = [explain_filter(line) for line in (err.details or {}).get("problems") or [err.message]]
            typed: dict[str, Any] = {**form, **{flag: form[flag] == "1" for flag in ("has_test", "survey_required", "cross_year_repeat",
                                                                                     "foreign", "active")}}
            courses = [registry.course_snapshot(c) for c in db.scalars(select(Course).order_by(Course.course_code))]
            return render_template("certification/registry.html", courses=courses, course=typed, problems=problems), err.status
        db.commit()
        flash(_("Registry entry saved."), "success")
        return redirect(url_for("certification.course_page", course_code=course.course_code))
    courses = [registry.course_snapshot(c) for c in db.scalars(select(Course).order_by(Course.course_code))]
    return render_template("certification/registry.html", courses=courses)


@bp.route("/registry/<course_code>")
@staff_required(Role.CERTIFICATION)
def course_page(course_code: str) -> Any:
    """Show a registry entry, its edit form and its history."""
    db = get_session()
    course = registry.get_course(db, course_code)
    return render_template("certification/course.html", course=registry.course_snapshot(course), history=registry.history(db, course))


@api.route("/registry")
@staff_required(Role.CERTIFICATION)
def api_registry() -> Any:
    """Return every registry entry as JSON."""
    return jsonify([registry.course_snapshot(c) for c in get_session().scalars(select(Course).order_by(Course.course_code))])


@api.route("/registry/<course_code>/history")
@staff_required(Role.CERTIFICATION)
def api_course_history(course_code: str) -> Any:
    """Return a registry entry's history as JSON."""
    db = get_session()
    return jsonify(registry.history(db, registry.get_course(db, course_code)))


@bp.route("/codes", methods=["GET", "POST"])
@staff_required(Role.CERTIFICATION)
def codes_page() -> Any:
    """List the category codes and add newer ones."""
    db = get_session()
    if request.method == "POST":
        codes.add_code(db, request.form.get("code", ""), request.form.get("name", ""), request.form.get("top_group", ""),
                       request.form.get("note", ""), by=_who())
        db.commit()
        flash(_("Code saved."), "success")
        return redirect(url_for("certification.codes_page"))
    table = codes.code_table(db)
    shipped = codes.default_codes()
    rows = sorted(table.values(), key=lambda c: int(c.code) if c.code.isdigit() else 0)
    return render_template("certification/codes.html", codes=rows, shipped=shipped)


# --- export ------------------------------------------------------------------------------------------------------


@bp.route("/export", methods=["GET", "POST"])
@staff_required(Role.CERTIFICATION)
def export_page() -> Any:
    """Build the portal upload files for a year and agency and download them (a zip when several)."""
    if request.method == "GET":
        return render_template("certification/export.html", year=_today().year, result=None)
    db = get_session()
    year, agency = _year(), _agency()
    if request.form.get("recompute"):
        ledger.recompute(db, [year], agency=agency)
    # Build in a private temporary folder and hand the bytes to the browser: no copy with IDs stays on the server.
    with tempfile.TemporaryDirectory(prefix="lb-export-") as scratch:
        try:
            run = reports.run_export(db, settings.get_vault(), year=year, agency=agency, folder=Path(scratch), by=_who(),
                                     allow_passport=settings.allow_passport(), in_memory=True)
        except RuleError as err:
            raise BadRequest(str(err)) from None
    db.commit()
    if request.form.get("download") and run.result.files:
        return _download(run.result.files, f"{_today().isoformat()}_{year}_{agency or 'all'}")
    return render_template("certification/export.html", year=year, result=run.result, agency=agency or "")


def _download(files: list[tuple[str, bytes]], label: str) -> Response:
    if len(files) == 1:
        name, data = files[0]
        return send_file(io.BytesIO(data), mimetype="text/csv; charset=big5", as_attachment=True, download_name=name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=f"{label}.zip")


@bp.errorhandler(RuleError)
@api.errorhandler(RuleError)
def rule_error(err: RuleError) -> Response:
    """Answer a rule that cannot be applied (a year before every profile, a bad setting) with a 400 that says why."""
    return error_response(400, "bad_request", str(err))


@bp.app_template_filter("explain")
def explain_filter(line: str) -> str:
    """Show an explanation line in the page's language (stored in English)."""
    return explain_i18n.translator(str(get_locale() or "zh_Hant_TW"))(line)


@bp.after_request
@api.after_request
def no_store(response: Response) -> Response:
    """Keep pages and data about people out of shared caches and the back-forward cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the staff pages and the JSON API, and link them from the staff landing page."""
    app.register_blueprint(bp)
    app.register_blueprint(api)
    register_staff_link(app, "certification.home", "Hour certification", Role.CERTIFICATION)
