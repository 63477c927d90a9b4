"""Send learners' standing to the LMS gradebook with LTI Assignment and Grade Services 2.0.

One line item per resource link: the one the launch names (`lineitem` in the endpoint claim, as
created from a deep-linked `lineItem`), else the one the tool created before, else one found by
`resource_link_id` and `resource_id`, else a new one (AGS 2.0 §3.2). Scores go to the line item's
`/scores` endpoint (§3.4) with `activityProgress` and `gradingProgress`: InProgress/Pending while
the learner studies, Completed/FullyGraded with the score once R4 holds. This runs as the outbox
handler of the score channel: a platform that refuses or times out gets the score later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lrs.db import get_db
from lrs.outbox import core as outbox
from lti_tool.learning import delivery
from lti_tool.learning.models import LearningEnrollment, LearningLineItem, LearningScoreSend
from lti_tool.learning.platform_client import (
    Credentials,
    PlatformError,
    access_token,
    credentials_for,
    forget_token,
    request_json,
)

LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINE_ITEM_TAG = "lifelong-learning-completion"
SCORE_MAXIMUM = 100


def scores_url(lineitem_url: str) -> str:
    """Return the scores endpoint of a line item: `/scores` appended to its path, query kept (AGS §3.4)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def score_body(enrollment: LearningEnrollment, send: LearningScoreSend) -> dict[str, Any]:
    """Build the score a platform receives (AGS 2.0 §3.4.4-§3.4.8)."""
    body: dict[str, Any] = {
        "userId": enrollment.sub,
        "activityProgress": send.activity_progress,
        "gradingProgress": send.grading_progress,
        "timestamp": send.created_at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if send.score_given is not None:
        body["scoreGiven"] = send.score_given
        body["scoreMaximum"] = SCORE_MAXIMUM
    return body


def line_item_body(enrollment: LearningEnrollment) -> dict[str, Any]:
    """Build the line item the tool creates for a resource link (AGS 2.0 §3.2.7)."""
    label = enrollment.resource_link_title or enrollment.course_title_zh or enrollment.course_title_en
    return {
        "scoreMaximum": SCORE_MAXIMUM,
        "label": label[:200] or enrollment.course_code,
        "resourceId": enrollment.course_code,
        "tag": LINE_ITEM_TAG,
        "resourceLinkId": enrollment.resource_link_id,
    }


class ServiceCalls:
    """One delivery's authenticated calls to a platform, refreshing the token once on 401."""

    def __init__(self, app: Flask, credentials: Credentials, scopes: tuple[str, ...]) -> None:
        self.app = app
        self.credentials = credentials
        self.scopes = scopes

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request with a cached token, fetching a fresh token once if the platform says 401."""
        token = access_token(self.app, self.credentials, self.scopes)
        answer = request_json(self.app, method, url, token=token, **kwargs)
        if answer.status == 401:
            forget_token(self.app, self.credentials, self.scopes)
            token = access_token(self.app, self.credentials, self.scopes, fresh=True)
            answer = request_json(self.app, method, url, token=token, **kwargs)
        return answer


def _refused(what: str, status: int) -> PlatformError:
    # 5xx, 429 and 401/403 (a registration being fixed) may pass later; other 4xx will not.
    retry = status >= 500 or status in (401, 403, 408, 429)
    return PlatformError(f"The platform refused to {what} (HTTP {status}).", status=status, retry=retry)


def find_or_create_line_item(app: Flask, session: Session, enrollment: LearningEnrollment, call: ServiceCalls) -> str:
    """Return the line item URL for the enrollment's resource link, creating it once when needed."""
    if enrollment.ags_lineitem_url:
        return enrollment.ags_lineitem_url
    if not enrollment.ags_lineitems_url:
        raise PlatformError("The launch offered no line items endpoint.", retry=False)
    known = session.scalar(select(LearningLineItem.lineitem_url).where(
        LearningLineItem.issuer == enrollment.issuer, LearningLineItem.lineitems_url == enrollment.ags_lineitems_url,
        LearningLineItem.resource_link_id == enrollment.resource_link_id))
    if known:
        return known
    found = call("GET", _with_query(enrollment.ags_lineitems_url, {
        "resource_link_id": enrollment.resource_link_id, "resource_id": enrollment.course_code, "limit": "10",
    }), accept=LINEITEMS_TYPE)
    url: str | None = None
    if found.status == 200 and isinstance(found.body, list):
        for item in found.body:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item.get("resourceId") in (None, enrollment.course_code):
                url = item["id"]
                break
    if url is None:
        created = call("POST", enrollment.ags_lineitems_url, accept=LINEITEM_TYPE, content_type=LINEITEM_TYPE,
                       body=line_item_body(enrollment))
        if created.status not in (200, 201) or not isinstance(created.body, dict) or not isinstance(created.body.get("id"), str):
            raise _refused("create the gradebook line item", created.status)
        url = created.body["id"]
    assert url is not None
    session.add(LearningLineItem(issuer=enrollment.issuer, lineitems_url=enrollment.ags_lineitems_url,
                                 resource_link_id=enrollment.resource_link_id, lineitem_url=url))
    try:
        session.commit()
    except IntegrityError:
        # Another worker stored the line item of this resource link first: use theirs.
        session.rollback()
        theirs = session.scalar(select(LearningLineItem.lineitem_url).where(
            LearningLineItem.issuer == enrollment.issuer, LearningLineItem.lineitems_url == enrollment.ags_lineitems_url,
            LearningLineItem.resource_link_id == enrollment.resource_link_id))
        url = theirs or url
    return url


def send_score(app: Flask, send_id: int) -> None:
    """Post one queued score to the platform, finding or creating the line item first."""
    with get_db(app).session() as session:
        send = session.get(LearningScoreSend, send_id)
        if send is None:
            raise PlatformError(f"Score {send_id} no longer exists.", retry=False)
        if send.status == "sent":
            return
        enrollment = send.enrollment
        credentials = credentials_for(session, enrollment.issuer, enrollment.client_id)
        granted = set(enrollment.ags_scopes.split())
        scopes = tuple(scope for scope in (LINEITEM_SCOPE, SCORE_SCOPE) if scope in granted)
        call = ServiceCalls(app, credentials, scopes)
        lineitem = find_or_create_line_item(app, session, enrollment, call)
        body = score_body(enrollment, send)
    answer = call("POST", scores_url(lineitem), content_type=SCORE_TYPE, body=body)
    if answer.status not in (200, 201, 202, 204):
        raise _refused("take the score", answer.status)


def deliver_score(app: Flask, payload: dict[str, Any]) -> None:
    """Deliver one queued score (the outbox handler); record the outcome for administrators."""
    send_id = payload.get("score_send_id")
    if not isinstance(send_id, int):
        raise outbox.Undeliverable("the outbox message names no score")
    try:
        send_score(app, send_id)
    except PlatformError as err:
        delivery.mark_score(app, send_id, sent=False, error=str(err))
        if err.retry:
            raise outbox.RetryLater(str(err)) from None
        raise outbox.Undeliverable(str(err)) from None
    delivery.mark_score(app, send_id, sent=True)
