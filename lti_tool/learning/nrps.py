"""Show course staff a completion overview of their LMS course from its roster (LTI NRPS 2.0).

The roster comes from the platform's context membership service, every page of it (NRPS 2.0 §2.4.1:
follow the `Link` header's rel="next"), and is joined with the learners' enrollments in the linked
course, so staff also see members who have not started yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.db import get_session
from lrs.errors import Forbidden
from lti_tool.learning.ags import ServiceCalls
from lti_tool.learning.models import LearningEnrollment
from lti_tool.learning.platform_client import PlatformError, credentials_for, next_link
from lti_tool.learning.rules import CompletionStatus, completion
from lti_tool.learning.views import _access, bp

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MAX_PAGES = 200


@dataclass(frozen=True)
class Member:
    """One member of the LMS course (NRPS 2.0 §2.2)."""

    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str

    @property
    def is_learner(self) -> bool:
        """Tell whether the member is a learner of the course."""
        return any(role == LEARNER_ROLE or role.endswith("#Learner") or role == "Learner" for role in self.roles)


def roster(app: Flask, session: Session, issuer: str, client_id: str, url: str) -> tuple[list[Member], int]:
    """Fetch every page of a context's membership and return the members and the number of pages."""
    call = ServiceCalls(app, credentials_for(session, issuer, client_id), (NRPS_SCOPE,))
    members: list[Member] = []
    pages = 0
    next_url: str | None = url
    seen: set[str] = set()
    while next_url and pages < MAX_PAGES and next_url not in seen:
        seen.add(next_url)
        answer = call("GET", next_url, accept=MEMBERSHIP_TYPE)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise PlatformError(f"The LMS did not give its course roster (HTTP {answer.status}).", status=answer.status)
        for raw in answer.body.get("members", []):
            if isinstance(raw, dict) and isinstance(raw.get("user_id"), str):
                roles: list[Any] = raw["roles"] if isinstance(raw.get("roles"), list) else []
                name = raw.get("name") or " ".join(str(raw.get(k, "")) for k in ("given_name", "family_name")).strip()
                members.append(Member(raw["user_id"], str(name or ""), str(raw.get("email") or ""),
                                      tuple(r for r in roles if isinstance(r, str)), str(raw.get("status") or "Active")))
        pages += 1
        next_url = next_link(answer.headers)
    return members, pages


@dataclass(frozen=True)
class OverviewRow:
    """One learner's standing in the linked course."""

    user_id: str
    name: str
    enrollment: LearningEnrollment | None
    status: CompletionStatus | None


@bp.get("/<token>/overview")
def overview(token: str) -> Response:
    """Show course staff who in their LMS course has started and completed the linked course."""
    access, mine = _access(token)
    if access.role != "instructor":
        raise Forbidden("Only course staff can see the completion overview.")
    session = get_session()
    enrollments = {
        row.sub: row for row in session.scalars(select(LearningEnrollment).where(
            LearningEnrollment.issuer == mine.issuer, LearningEnrollment.deployment_id == mine.deployment_id,
            LearningEnrollment.resource_link_id == mine.resource_link_id,
            LearningEnrollment.course_code == mine.course_code))
    }
    members: list[Member] = []
    problem = ""
    pages = 0
    if mine.nrps_url:
        try:
            members, pages = roster(current_app._get_current_object(), session, mine.issuer,  # type: ignore[attr-defined]
                                    mine.client_id, mine.nrps_url)
        except PlatformError as err:
            problem = str(err)
    rows: list[OverviewRow] = []
    listed: set[str] = set()
    for member in members:
        if not member.is_learner:
            continue
        listed.add(member.user_id)
        found = enrollments.get(member.user_id)
        rows.append(OverviewRow(member.user_id, member.name, found,
                                completion(found.terms, found.progress) if found else None))
    for sub, found in enrollments.items():
        if sub not in listed and sub != mine.sub:
            rows.append(OverviewRow(sub, found.learner_name, found, completion(found.terms, found.progress)))
    completed = sum(1 for row in rows if row.enrollment is not None and row.enrollment.completed_at is not None)
    started = sum(1 for row in rows if row.enrollment is not None)
    body = render_template("learning/overview.html", token=token, enrollment=mine, rows=rows, problem=problem,
                           pages=pages, completed=completed, started=started, has_roster=bool(mine.nrps_url))
    response = Response(body, mimetype="text/html")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
