"""Take evidence of completing an external MOOC and let certification staff review it.

A MOOC or blended programme is studied on its provider's site, so the tool cannot time it: the
learner gives a certificate link or file (PDF, PNG or JPEG, checked by content, within
`LEARNING_EVIDENCE_MAX_BYTES`), and an accepted certificate stands for the reading time of R4.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, UnsupportedMediaType
from lti_tool.learning.models import LearningEnrollment, LearningEvidence
from lti_tool.learning.service import advance, clock, get_enrollment

EVIDENCE_TYPES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
DEFAULT_EVIDENCE_MAX_BYTES = 5 * 1024 * 1024


def submit_evidence(session: Session, enrollment: LearningEnrollment, *, url: str = "", filename: str = "",
                    content_type: str = "", data: bytes | None = None,
                    now: dt.datetime | None = None) -> LearningEvidence:
    """Store evidence of completing an external MOOC (a certificate URL or a PDF/PNG/JPEG file) for review."""
    now = now or clock()
    if enrollment.completed_at is not None:
        raise Conflict("You have already completed this course; no more evidence is needed.")
    url = url.strip()
    if url and data:
        raise BadRequest("Give either a certificate link or a file, not both.")
    if not url and not data:
        raise BadRequest("Give a link to your certificate or upload it as a PDF, PNG or JPEG file.")
    evidence = LearningEvidence(enrollment_id=enrollment.id, submitted_at=now, status="pending")
    if url:
        if not url.startswith(("https://", "http://")) or len(url) > 2000 or any(c.isspace() for c in url):
            raise BadRequest("The certificate link must be a web address starting with https://.")
        evidence.url = url
    else:
        assert data is not None
        limit = int(current_app.config.get("LEARNING_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))
        if len(data) > limit:
            raise PayloadTooLarge("The file is too large; upload a smaller PDF or image.")
        detected = next((kind for kind, magic in EVIDENCE_TYPES.items() if data.startswith(magic)), None)
        if detected is None:
            raise UnsupportedMediaType("Upload the certificate as a PDF, PNG or JPEG file.")
        evidence.filename = (filename or "certificate").replace("/", "_").replace("\\", "_")[:255]
        evidence.content_type = detected
        evidence.size = len(data)
        evidence.data = data
    session.add(evidence)
    session.flush()
    return evidence


def review_evidence(session: Session, evidence_id: int, accept: bool, reviewer: str, note: str = "",
                    now: dt.datetime | None = None) -> LearningEvidence:
    """Accept or reject evidence; accepted evidence satisfies the reading condition of an external MOOC."""
    now = now or clock()
    evidence = session.get(LearningEvidence, evidence_id)
    if evidence is None:
        raise NotFound("No such evidence; it may have been removed.")
    if evidence.status != "pending":
        raise Conflict(f"This evidence was already {evidence.status} by {evidence.reviewed_by}.")
    evidence.status = "accepted" if accept else "rejected"
    evidence.reviewed_by = reviewer[:80]
    evidence.reviewed_at = now
    evidence.review_note = note.strip()[:1000]
    if accept:
        enrollment = get_enrollment(session, evidence.enrollment_id, lock=True)
        enrollment.evidence_accepted_at = now
        # The learner studied on the provider's site: the accepted certificate stands for the reading time.
        enrollment.read_seconds = max(enrollment.read_seconds, enrollment.terms.required_seconds)
        advance(session, enrollment, now)
    return evidence


def pending_evidence(session: Session) -> list[LearningEvidence]:
    """Return evidence awaiting review, oldest first."""
    return list(session.scalars(
        select(LearningEvidence).where(LearningEvidence.status == "pending").order_by(LearningEvidence.id)
    ))
