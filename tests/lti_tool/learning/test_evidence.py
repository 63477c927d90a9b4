"""Test evidence of external MOOC completion: upload limits, staff review and its effect on R4."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from lrs.staff import Role
from lti_tool.learning.tokens import player_token
from tests.conftest import csrf_token_from

from .conftest import add_course, enrollment_of
from .test_player import _pass_quiz, _survey

PDF = b"%PDF-1.7\n" + b"0" * 100


def _mooc(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> tuple[int, str]:
    add_course(app, "MOOC1", fmt="mooc", hours_tenths=20)
    enrollment_id, _ = enroll(custom={"catalog_course": "MOOC1"})
    with app.test_request_context():
        token = player_token(enrollment_id)
    page = client.get(f"/learn/{token}")
    assert page.status_code == 200 and "evidence-url" in page.get_data(as_text=True)
    return enrollment_id, token


def test_evidence_post_file_too_large_is_refused(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """A certificate file above the size limit is refused with 413 and nothing is stored."""
    app.config["LEARNING_EVIDENCE_MAX_BYTES"] = 1024
    _id, token = _mooc(app, client, enroll)
    response = client.post(f"/learn/{token}/evidence?lang=en", data={"file": (io.BytesIO(PDF + b"x" * 2000), "c.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "The file is too large; upload a smaller PDF or image." in response.get_data(as_text=True)
    # The learner's page language (Traditional Chinese by default) carries the same message.
    chinese = client.post(f"/learn/{token}/evidence?lang=zh-TW", data={"file": (io.BytesIO(PDF + b"x" * 2000), "c.pdf")},
                          content_type="multipart/form-data")
    assert "檔案太大，請上傳較小的 PDF 或圖片。" in chinese.get_data(as_text=True)


def test_evidence_post_wrong_type_is_refused(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """A file that is not a PDF, PNG or JPEG (by its content, whatever its name) is refused with 415."""
    _id, token = _mooc(app, client, enroll)
    response = client.post(f"/learn/{token}/evidence", data={"file": (io.BytesIO(b"<html>hi</html>"), "c.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 415


def test_evidence_post_bad_link_is_refused(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """A certificate link that is not a web address is refused with 400."""
    _id, token = _mooc(app, client, enroll)
    assert client.post(f"/learn/{token}/evidence", data={"url": "javascript:alert(1)"}).status_code == 400
    assert client.post(f"/learn/{token}/evidence", data={}).status_code == 400


def test_evidence_review_accept_satisfies_reading_and_completes(
    app: Flask, client: FlaskClient, enroll: Callable[..., Any], make_staff: Callable[..., Any], login: Callable[..., Any]
) -> None:
    """Accepted evidence stands for the reading time; with quiz and survey done the course completes (R4)."""
    enrollment_id, token = _mooc(app, client, enroll)
    _pass_quiz(client, token)
    _survey(client, token)
    assert client.post(f"/learn/{token}/evidence", data={"file": (io.BytesIO(PDF), "cert.pdf")},
                       content_type="multipart/form-data").status_code == 303
    assert enrollment_of(app, enrollment_id).completed_at is None
    login(*make_staff("cert", Role.CERTIFICATION))
    page = client.get("/learning/staff/evidence").get_data(as_text=True)
    match = re.search(r'action="(/learning/staff/evidence/(\d+))"', page)
    assert match
    download = client.get(f"/learning/staff/evidence/{match.group(2)}/file")
    assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment")
    token_csrf = csrf_token_from(client, "/learning/staff/evidence")
    decided = client.post(match.group(1), data={"decision": "accept", "note": "ok", "csrf_token": token_csrf})
    assert decided.status_code == 303
    row = enrollment_of(app, enrollment_id)
    assert row.read_seconds == 7200
    assert row.completed_at is not None and row.credited_tenths == 20
    again = client.post(match.group(1), data={"decision": "accept", "csrf_token": token_csrf})
    assert again.status_code == 409


def test_evidence_review_reject_keeps_course_open(
    app: Flask, client: FlaskClient, enroll: Callable[..., Any], make_staff: Callable[..., Any], login: Callable[..., Any]
) -> None:
    """Rejected evidence credits nothing."""
    enrollment_id, token = _mooc(app, client, enroll)
    client.post(f"/learn/{token}/evidence", data={"url": "https://coursera.org/verify/ABC"})
    login(*make_staff("cert", Role.CERTIFICATION))
    page = client.get("/learning/staff/evidence").get_data(as_text=True)
    assert "https://coursera.org/verify/ABC" in page
    match = re.search(r'action="(/learning/staff/evidence/\d+)"', page)
    assert match
    client.post(match.group(1), data={"decision": "reject", "csrf_token": csrf_token_from(client, "/learning/staff/evidence")})
    row = enrollment_of(app, enrollment_id)
    assert row.read_seconds == 0 and row.completed_at is None


def test_evidence_staff_page_needs_certification_role(
    client: FlaskClient, make_staff: Callable[..., Any], login: Callable[..., Any]
) -> None:
    """Curators cannot review evidence; anonymous visitors are sent to log in."""
    assert client.get("/learning/staff/evidence").status_code == 302
    login(*make_staff("cur", Role.CURATOR))
    assert client.get("/learning/staff/evidence").status_code == 403
    assert client.get("/learning/staff/deliveries").status_code == 403


def test_evidence_mooc_page_counts_no_reading_time(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """An external MOOC's reading time comes only from accepted evidence: its page does not beat, beats are refused."""
    from lti_tool.learning.tokens import tab_token

    enrollment_id, token = _mooc(app, client, enroll)
    page = client.get(f"/learn/{token}").get_data(as_text=True)
    assert "/learn/api/heartbeat" not in page
    from lrs.db import get_db
    from lti_tool.learning.models import LearningTab

    with get_db(app).session() as session:
        tab = session.query(LearningTab).filter_by(enrollment_id=enrollment_id).first()
        assert tab is not None
        tab_id = tab.id
    with app.test_request_context():
        forged_page = tab_token(enrollment_id, tab_id)
    response = client.post("/learn/api/heartbeat", json={"tab": forged_page, "seq": 1})
    assert response.status_code == 409
    assert enrollment_of(app, enrollment_id).read_seconds == 0
