"""Serve the learner's course player, its heartbeat API, the quiz, the survey and evidence upload.

Player pages live inside the LMS iframe, where third-party cookies are blocked: each page carries
its signed player token in the URL, and heartbeats carry a signed per-page token. The blueprint is
exempt from the cookie-based CSRF check because the token in the URL (never in a cookie) already
proves that a form came from a page this tool served to this learner.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from lrs.certification.explain_i18n import translator
from lrs.db import get_session
from lrs.errors import AppError, BadRequest, Forbidden, error_response
from lti_tool.learning import evidence as evidence_service
from lti_tool.learning import identity, service
from lti_tool.learning.models import LearningEnrollment
from lti_tool.learning.rules import BeatOutcome, completion, survey_open
from lti_tool.learning.tokens import PlayerAccess, player_token, read_player_token, read_tab_token, tab_token

bp = Blueprint("learning", __name__, template_folder="templates", static_folder="static", url_prefix="/learn")

FORMAT_TEMPLATES = {
    "talk": "video",
    "recorded_lecture": "video",
    "reading": "reading",
    "mooc": "mooc",
    "blended": "mooc",
}


def _access(token: str) -> tuple[PlayerAccess, LearningEnrollment]:
    access = read_player_token(token)
    enrollment = service.get_enrollment(get_session(), access.enrollment_id)
    g.lti_locale = enrollment.locale
    return access, enrollment


def course_title(enrollment: LearningEnrollment) -> str:
    """Return the course title in the page's language."""
    chinese = str(get_locale() or "").startswith("zh")
    if (chinese and enrollment.course_title_zh) or not enrollment.course_title_en:
        return enrollment.course_title_zh
    return enrollment.course_title_en


def _lti_id_problem(enrollment: LearningEnrollment) -> str | None:
    """Return the notice for an ID number the LMS sent but that could not be linked (`?lti_id=<key>`)."""
    key = request.args.get("lti_id", "")
    if key not in LTI_ID_PROBLEMS:
        return None
    if key == "other":
        person = identity.person_of(get_session(), enrollment.issuer, enrollment.sub)
        return str(_(identity.OTHER_PERSON, masked=person.id_masked if person else "****"))
    return str(_(LTI_ID_PROBLEMS[key]))


def _page(template: str, token: str, enrollment: LearningEnrollment, **extra: Any) -> Response:
    status = completion(enrollment.terms, enrollment.progress)
    body = render_template(
        template,
        lti_id_problem=_lti_id_problem(enrollment),
        token=token,
        enrollment=enrollment,
        status=status,
        survey_open=survey_open(enrollment.terms, enrollment.best_score),
        title=course_title(enrollment),
        **extra,
    )
    response = Response(body, mimetype="text/html")
    # Player URLs hold a bearer token: keep it out of Referer headers sent to course providers.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def player_url(enrollment_id: int, role: str = "learner") -> str:
    """Return the player's address for an enrollment, with a fresh token."""
    return url_for("learning.player", token=player_token(enrollment_id, role))


@bp.get("/<token>")
def player(token: str) -> Response:
    """Show the course player: the content, reading time, quiz and survey, and progress toward R4."""
    access, enrollment = _access(token)
    session = get_session()
    tab = service.open_tab(session, enrollment)
    session.commit()
    from lti_tool.catalog import service as catalog

    course = catalog.get_course(session, enrollment.course_code)
    policy = service.heartbeat_policy()
    return _page(
        f"learning/player_{FORMAT_TEMPLATES.get(enrollment.course_format, 'reading')}.html",
        token,
        enrollment,
        course=course,
        access=access,
        tab_token=tab_token(enrollment.id, tab.id),
        heartbeat_seconds=policy.interval_seconds,
    )


@bp.post("/api/heartbeat")
def heartbeat() -> Response:
    """Count a heartbeat of an open player page, at server time; forged or replayed beats count nothing."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("tab"), str):
        raise BadRequest("Send a JSON heartbeat with the page's tab token, a sequence number and visibility.")
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise BadRequest("A heartbeat's sequence number must be a whole number.")
    access = read_tab_token(data["tab"])
    session = get_session()
    answer = service.heartbeat(session, access.enrollment_id, access.tab, seq, data.get("visible") is not False)
    session.commit()
    status = answer.status
    body = {
        "outcome": answer.outcome.value,
        "credited_seconds": answer.credited_seconds,
        "read_seconds": answer.read_seconds,
        "required_seconds": status.required_seconds,
        "reading_met": status.reading_met,
        "test_met": status.test_met,
        "survey_met": status.survey_met,
        "complete": status.complete,
    }
    code = 409 if answer.outcome is BeatOutcome.REPLAYED else 200
    response = jsonify(body)
    response.status_code = code
    return response


@bp.post("/api/close")
def close() -> Response:
    """Stop a page's clock when it is closed (sent with navigator.sendBeacon on `pagehide`)."""
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, dict) or not isinstance(data.get("tab"), str):
        raise BadRequest("Send the page's tab token.")
    access = read_tab_token(data["tab"])
    session = get_session()
    service.close_tab(session, access.enrollment_id, access.tab)
    session.commit()
    return Response(status=204)


@bp.route("/<token>/quiz", methods=["GET", "POST"])
def quiz(token: str) -> BaseResponse:
    """Show the course's quiz and grade a submitted attempt against the pass mark."""
    _access_info, enrollment = _access(token)
    session = get_session()
    bank = service.questions(session, enrollment.course_code)
    attempt = None
    if request.method == "POST":
        answers = {q.key: request.form.get(f"q_{q.key}", "") for q in bank}
        attempt = service.grade_quiz(session, enrollment, answers)
        session.commit()
    return _page("learning/quiz.html", token, enrollment, questions=bank, attempt=attempt,
                 pass_mark=enrollment.terms.effective_pass_mark)


@bp.route("/<token>/survey", methods=["GET", "POST"])
def survey(token: str) -> BaseResponse:
    """Show and take the satisfaction survey, open once the quiz is passed (R4)."""
    _access_info, enrollment = _access(token)
    if request.method == "POST":
        session = get_session()
        answers = {item: request.form.get(item, "") for item in service.SURVEY_ITEMS}
        service.submit_survey(session, enrollment, answers, request.form.get("comment", ""))
        session.commit()
        return redirect(url_for("learning.player", token=token, done="survey"), code=303)
    return _page("learning/survey.html", token, enrollment, items=service.SURVEY_ITEMS, scale=service.SURVEY_SCALE)


@bp.post("/<token>/evidence")
def evidence(token: str) -> BaseResponse:
    """Take evidence of an external MOOC's completion: a certificate link or file, for staff review."""
    access, enrollment = _access(token)
    if access.role != "learner":
        raise Forbidden("Only the learner can submit evidence of their own completion.")
    session = get_session()
    upload = request.files.get("file")
    data = upload.read(int(current_app.config.get("LEARNING_EVIDENCE_MAX_BYTES", evidence_service.DEFAULT_EVIDENCE_MAX_BYTES)) + 1) if upload and upload.filename else None
    evidence_service.submit_evidence(session, enrollment, url=request.form.get("url", ""),
                            filename=upload.filename or "" if upload else "", data=data)
    session.commit()
    return redirect(url_for("learning.player", token=token, done="evidence"), code=303)


def id_message(err: AppError) -> str:
    """Return a refused claim's message in the page's language (the ID number itself is never part of it)."""
    masked = err.details.get("masked")
    if masked:
        return str(_(identity.OTHER_PERSON, masked=masked))
    return str(_(err.message))


# Problems with an ID number sent by the LMS, named in the player's URL by key (never the number itself).
LTI_ID_PROBLEMS = {
    **{f"id{number}": text for number, text in enumerate(identity.ID_MESSAGES)},
    "taken": identity.TAKEN, "taken_lms": identity.TAKEN_SAME_LMS, "other": identity.OTHER_PERSON,
    "agency": identity.NEED_AGENCY, "name": identity.NEED_NAME, "too_many": identity.TOO_MANY,
}


def lti_id_problem_key(err: AppError) -> str:
    """Return the key of a refused LTI claim's message, for the player's notice."""
    if err.details.get("masked"):
        return "other"
    for key, text in LTI_ID_PROBLEMS.items():
        if text == err.message:
            return key
    return "id4"


@bp.route("/<token>/hours", methods=["GET", "POST"])
def hours(token: str) -> BaseResponse:
    """Show the learner's certified hours this year and quota progress (R1, R3), or take their ID number once (D6).

    The form posts to the token-bearing URL like the player's other forms (no cookie needed inside the
    LMS iframe); the number is never echoed back, logged or shown other than masked.
    """
    access, enrollment = _access(token)
    if access.role != "learner":
        raise Forbidden("Only the learner can see their own certified hours.")
    session = get_session()
    error, error_status = None, 400
    values = {"name": enrollment.learner_name, "agency_code": ""}
    if request.method == "POST":
        values = {"name": request.form.get("name", "")[:60], "agency_code": request.form.get("agency_code", "")[:10]}
        try:
            identity.claim(session, issuer=enrollment.issuer, sub=enrollment.sub,
                           id_number=request.form.get("national_id", "")[:40], name=values["name"],
                           agency_code=values["agency_code"], source=identity.SOURCE_LEARNER)
        except AppError as err:
            session.rollback()
            error, error_status = id_message(err), err.status
            identity.record_refusal(session, enrollment.issuer, enrollment.sub, identity.SOURCE_LEARNER, err)
            session.commit()
        else:
            session.commit()
            return redirect(url_for("learning.hours", token=token, done="id"), code=303)
    person = identity.person_of(session, enrollment.issuer, enrollment.sub)
    record = identity.transcript(session, person, service.clock()) if person is not None else None
    translate = translator(str(get_locale() or ""))
    response = _page("learning/hours.html", token, enrollment, person=person, record=record, error=error,
                     values=values, translate=translate)
    if error is not None:
        response.status_code = error_status
    return response


@bp.errorhandler(AppError)
def translated_error(err: AppError) -> Response:
    """Answer learners' and staff's errors in the page's language where a translation exists."""
    return error_response(err.status, err.code, _(err.message), err.details)
