"""Test recommendations, moderated reviews, ranking signals and escaping of hostile text (B6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.errors import BadRequest
from lti_tool.catalog import service
from lti_tool.catalog.domain import Status
from lti_tool.catalog.service import CourseQuery
from tests.conftest import csrf_token_from

SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def send_review(client: FlaskClient, code: str, rating: str, text: str, name: str = "") -> int:
    page = f"/catalog/{code}"
    return client.post(page + "/reviews", data={"rating": rating, "text": text, "author_name": name,
                                                "csrf_token": csrf_token_from(client, page + "?lang=en")}).status_code


def test_review_post_is_hidden_until_approved_and_escaped_when_shown(
    app: Flask, client: FlaskClient, curator: FlaskClient, add_course: Callable[..., str],
) -> None:
    """B6 and bad input: a review with script shows only after moderation, as text, never as markup."""
    code = add_course()
    assert send_review(client, code, "5", SCRIPT, name="<b>Mallory</b>") == 302
    before = client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    assert "alert" not in before and "No reviews yet." in before
    moderation = curator.get("/catalog/manage/reviews").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in moderation and "<script>alert" not in moderation
    with app.app_context(), get_db(app).session() as session:
        review_id = service.pending_reviews(session)[0][0].id
    token = csrf_token_from(curator, "/catalog/manage/reviews")
    assert curator.post("/catalog/manage/reviews", data={"review_id": review_id, "decision": "approve",
                                                         "csrf_token": token}).status_code == 302
    after = client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in after
    assert "<script>alert" not in after and "<img src=x" not in after and "<b>Mallory</b>" not in after
    assert "Rated 5.0 of 5 (1)" in after


def test_review_post_rejected_review_never_shows(app: Flask, client: FlaskClient, curator: FlaskClient,
                                                 add_course: Callable[..., str]) -> None:
    """B6: a rejected review stays hidden and does not count in the rating."""
    code = add_course()
    send_review(client, code, "1", "spam spam")
    with app.app_context(), get_db(app).session() as session:
        review_id = service.pending_reviews(session)[0][0].id
    token = csrf_token_from(curator, "/catalog/manage/reviews")
    curator.post("/catalog/manage/reviews", data={"review_id": review_id, "decision": "reject", "csrf_token": token})
    page = client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    assert "spam spam" not in page and "Rated" not in page
    again = curator.post("/catalog/manage/reviews", data={"review_id": review_id, "decision": "approve",
                                                          "csrf_token": token})
    assert again.status_code == 409


@pytest.mark.parametrize(("rating", "text", "fragment"), [
    ("0", "", "Choose a rating from 1 to 5 stars."),
    ("six", "", "Choose a rating from 1 to 5 stars."),
    ("4", "x" * 1001, "Keep the review to 1000 characters (it has 1001)."),
])
def test_review_post_refuses_bad_ratings_and_long_text(app: Flask, client: FlaskClient, add_course: Callable[..., str],
                                                       rating: str, text: str, fragment: str) -> None:
    """Bad input: the learner is told what to change and nothing is stored."""
    code = add_course()
    assert send_review(client, code, rating, text) == 302
    assert fragment in client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        assert service.pending_reviews(session) == []


def test_review_post_to_a_draft_course_is_not_found(client: FlaskClient, add_course: Callable[..., str]) -> None:
    """Only published courses take reviews."""
    code = add_course(Status.DRAFT)
    token = csrf_token_from(client, "/staff/login")
    assert client.post(f"/catalog/{code}/reviews", data={"rating": "5", "csrf_token": token}).status_code == 404


def test_course_title_with_markup_is_escaped_everywhere(app: Flask, client: FlaskClient, curator: FlaskClient,
                                                        add_course: Callable[..., str]) -> None:
    """Bad input: HTML in titles and descriptions is shown as text on public and curator pages and in JSON."""
    code = add_course(title_en=SCRIPT, title_zh=SCRIPT, description_en=SCRIPT, description_zh=SCRIPT, pass_mark="")
    for url in (f"/catalog/{code}", "/catalog", "/catalog/new", f"/catalog/manage/{code}", "/catalog/manage"):
        page = (curator.get(url) if "manage" in url else client.get(url)).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url
    body = client.get(f"/api/courses/{code}")
    assert body.mimetype == "application/json" and body.get_json()["title"]["en"] == SCRIPT


def test_recommendation_post_shows_the_reason_and_lifts_ranking(app: Flask, curator: FlaskClient,
                                                                client: FlaskClient,
                                                                add_course: Callable[..., str]) -> None:
    """B6: an expert recommendation with its reason appears on the course page and raises its rank."""
    first = add_course(code="REC-1")
    second = add_course(code="REC-2")
    with app.app_context(), get_db(app).session() as session:
        assert service.get_course(session, first).rank_score == service.get_course(session, second).rank_score
    page = f"/catalog/manage/{second}"
    response = curator.post(page + "/recommend", data={
        "expert_name": "Dr. Lin", "expert_title": "Professor of public administration",
        "reason": "Clear and practical for policy staff.", "csrf_token": csrf_token_from(curator, page)})
    assert response.status_code == 302
    text = client.get(f"/catalog/{second}?lang=en").get_data(as_text=True)
    assert "Clear and practical for policy staff." in text and "Dr. Lin" in text
    with app.app_context(), get_db(app).session() as session:
        ranked = [c.code for c in service.find_published(session, CourseQuery()).items]
    assert ranked == ["REC-2", "REC-1"]
    missing = curator.post(page + "/recommend", data={"expert_name": "", "reason": "",
                                                      "csrf_token": csrf_token_from(curator, page)})
    assert missing.status_code == 302
    assert "needs the expert" in curator.get(page + "?lang=en").get_data(as_text=True)


def test_record_learning_activity_counts_and_ranks_by_popularity_and_completion(
    app: Flask, add_course: Callable[..., str],
) -> None:
    """B6: launches and completions (from the learning player) update counters and the ranking."""
    for code in ("POP-1", "POP-2", "POP-3"):
        add_course(code=code)
    with app.app_context(), get_db(app).session() as session:
        service.record_learning_activity(session, "POP-1", launches=50, completions=5)
        service.record_learning_activity(session, "POP-2", launches=50, completions=45)
        service.record_learning_activity(session, "pop-2", launches=1)
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "POP-2")
        assert (course.launch_count, course.completion_count, course.completion_rate) == (51, 45, 0.882)
        ranked = [c.code for c in service.find_published(session, CourseQuery()).items]
        assert ranked == ["POP-2", "POP-1", "POP-3"]
        with pytest.raises(BadRequest):
            service.record_learning_activity(session, "POP-1", launches=-1)


def test_review_post_limits_reviews_per_client_per_day(app: Flask, client: FlaskClient,
                                                       add_course: Callable[..., str]) -> None:
    """Security: one client cannot flood the moderation queue; the sixth review in a day is refused."""
    code = add_course()
    for number in range(service.REVIEWS_PER_CLIENT_PER_DAY):
        assert send_review(client, code, "4", f"review {number}") == 302
    assert send_review(client, code, "4", "one too many") == 302
    assert "please wait until tomorrow" in client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        pending = service.pending_reviews(session)
    assert len(pending) == service.REVIEWS_PER_CLIENT_PER_DAY
    assert all(len(review.client_hash) == 64 and "127.0.0.1" not in review.client_hash for review, _c in pending)
