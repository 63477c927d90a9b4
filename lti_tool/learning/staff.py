"""Serve staff pages of the learning area: evidence review for external MOOCs, and deliveries to watch.

Certification staff accept or reject learners' evidence of completing an external MOOC (an
accepted certificate stands for the reading time, R4). Administrators see AGS scores and xAPI
statements waiting in the outbox, with the platforms' last errors, and can make given-up messages
due again.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lrs.db import get_session
from lrs.errors import BadRequest, NotFound
from lrs.outbox import core as outbox
from lrs.staff import Role, staff_required
from lrs.staff.views import register_staff_link
from lti_tool.learning import delivery
from lti_tool.learning import evidence as evidence_service
from lti_tool.learning.models import LearningEvidence, LearningScoreSend

bp = Blueprint("learning_staff", __name__, url_prefix="/learning/staff", template_folder="templates")
CHANNELS = (delivery.STATEMENT_CHANNEL, delivery.SCORE_CHANNEL)


@bp.get("/evidence")
@staff_required(Role.CERTIFICATION)
def evidence_list() -> str:
    """List evidence awaiting review, and the latest decisions."""
    session = get_session()
    recent = list(session.scalars(
        select(LearningEvidence).where(LearningEvidence.status != "pending").order_by(LearningEvidence.id.desc()).limit(20)
    ))
    return render_template("learning/staff_evidence.html", pending=evidence_service.pending_evidence(session), recent=recent)


@bp.post("/evidence/<int:evidence_id>")
@staff_required(Role.CERTIFICATION)
def evidence_review(evidence_id: int) -> Any:
    """Accept or reject one piece of evidence."""
    decision = request.form.get("decision")
    if decision not in {"accept", "reject"}:
        raise BadRequest("Choose accept or reject.")
    session = get_session()
    reviewer = g.staff_user.username
    evidence_service.review_evidence(session, evidence_id, decision == "accept", reviewer, request.form.get("note", ""))
    session.commit()
    flash(_("Evidence accepted.") if decision == "accept" else _("Evidence rejected."), "success")
    return redirect(url_for("learning_staff.evidence_list"), code=303)


@bp.get("/evidence/<int:evidence_id>/file")
@staff_required(Role.CERTIFICATION)
def evidence_file(evidence_id: int) -> Response:
    """Download an uploaded certificate file (as an attachment, never rendered inline)."""
    evidence = get_session().get(LearningEvidence, evidence_id)
    if evidence is None or evidence.data is None:
        raise NotFound("This evidence has no file.")
    response = Response(evidence.data, mimetype=evidence.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-{evidence.id}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/deliveries")
@staff_required(Role.ADMINISTRATOR)
def deliveries() -> str:
    """Show queued statements and scores per channel, and scores the platforms have not taken yet."""
    session = get_session()
    channels = [row for row in outbox.status(session) if row.channel in CHANNELS]
    failing = list(session.scalars(
        select(LearningScoreSend).where(LearningScoreSend.status != "sent").order_by(LearningScoreSend.id.desc()).limit(100)
    ))
    return render_template("learning/staff_deliveries.html", channels=channels, failing=failing)


@bp.post("/deliveries/retry")
@staff_required(Role.ADMINISTRATOR)
def deliveries_retry() -> Any:
    """Make the given-up messages of a learning channel due again."""
    channel = request.form.get("channel", "")
    if channel not in CHANNELS:
        raise BadRequest("Choose one of the learning channels.")
    count = outbox.retry_dead(get_session(), channel)
    flash(_("%(count)s messages will be delivered again.", count=count), "success")
    return redirect(url_for("learning_staff.deliveries"), code=303)


def init_app(app: Flask) -> None:
    """Register the staff pages and their links on the staff landing page."""
    app.register_blueprint(bp)
    register_staff_link(app, "learning_staff.evidence_list", "MOOC completion evidence to review", Role.CERTIFICATION)
    register_staff_link(app, "learning_staff.deliveries", "Learning records and gradebook deliveries", Role.ADMINISTRATOR)
