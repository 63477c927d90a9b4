"""Test the learner's player: launch enrolment, heartbeats, quiz, survey and completion under R4."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from lti_tool.learning.tokens import player_token

from .conftest import enrollment_of

TAB_RE = re.compile(r'var tab = "([^"]+)"')


def _open(app: Flask, client: FlaskClient, enrollment_id: int) -> tuple[str, str]:
    with app.test_request_context():
        token = player_token(enrollment_id)
    page = client.get(f"/learn/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)
    match = TAB_RE.search(page.get_data(as_text=True))
    assert match
    return token, match.group(1)


def test_player_get_shows_course_and_three_conditions(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any]) -> None:
    """The player shows the course and the learner's progress toward reading, quiz and survey (R4)."""
    enrollment_id, _queued = enroll()
    token, _tab = _open(app, client, enrollment_id)
    page = client.get(f"/learn/{token}?lang=en").get_data(as_text=True)
    assert "Course C1" in page
    assert 'id="cond-reading" data-met="no"' in page
    assert "pass mark 60" in page
    assert "opens once you pass the quiz" in page


def test_player_get_with_forged_token_is_forbidden(client: FlaskClient, course: str) -> None:
    """A player link whose signature does not match is refused with 403."""
    response = client.get("/learn/eyJlIjoxLCJyIjoibGVhcm5lciJ9.forged.sig")
    assert response.status_code == 403


def _beat(client: FlaskClient, tab: str, seq: int, visible: bool = True) -> Any:
    return client.post("/learn/api/heartbeat", json={"tab": tab, "seq": seq, "visible": visible})


def _read(client: FlaskClient, clock: Any, tab: str, seconds: int, start_seq: int = 1) -> int:
    """Beat every 30 s for `seconds` and return the next sequence number."""
    seq = start_seq
    for _ in range(seconds // 30):
        clock.advance(30)
        response = _beat(client, tab, seq)
        assert response.status_code == 200, response.get_data(as_text=True)
        seq += 1
    return seq


def _pass_quiz(client: FlaskClient, token: str, answer: str = "a") -> Any:
    return client.post(f"/learn/{token}/quiz", data={"q_q1": answer, "q_q2": answer})


def _survey(client: FlaskClient, token: str) -> Any:
    return client.post(f"/learn/{token}/survey", data={"useful": "5", "quality": "4", "recommend": "5", "comment": "好"})


def test_player_heartbeat_post_counts_server_time(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """Heartbeats credit the time the server measured between them, never a client figure."""
    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    clock.advance(30)
    first = _beat(client, tab, 1).get_json()
    assert first["outcome"] == "counted"
    assert first["read_seconds"] == 30
    assert first["required_seconds"] == 3600
    assert enrollment_of(app, enrollment_id).read_seconds == 30


def test_player_heartbeat_post_replayed_is_refused(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """A replayed heartbeat (same sequence number) is answered 409 and counts nothing."""
    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    clock.advance(30)
    assert _beat(client, tab, 1).status_code == 200
    clock.advance(30)
    replay = _beat(client, tab, 1)
    assert replay.status_code == 409
    assert replay.get_json()["outcome"] == "replayed"
    assert enrollment_of(app, enrollment_id).read_seconds == 30


def test_player_heartbeat_post_forged_token_is_refused(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """A heartbeat with an altered or made-up tab token is refused with 403 and counts nothing."""
    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    clock.advance(30)
    assert _beat(client, tab[:-2] + ("AA" if not tab.endswith("AA") else "BB"), 1).status_code == 403
    assert _beat(client, "made-up", 1).status_code == 403
    assert enrollment_of(app, enrollment_id).read_seconds == 0


def test_player_heartbeat_post_too_fast_counts_no_more_than_wall_time(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """Beats sent faster than the interval never add up to more than the time that passed."""
    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    for seq in range(1, 61):
        clock.advance(1)
        assert _beat(client, tab, seq).status_code == 200
    assert enrollment_of(app, enrollment_id).read_seconds <= 60


def test_player_heartbeat_post_two_tabs_count_once(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """With two player tabs open, only the newest counts; the older is told it is superseded."""
    enrollment_id, _ = enroll()
    _t1, tab1 = _open(app, client, enrollment_id)
    _t2, tab2 = _open(app, client, enrollment_id)
    for seq in range(1, 5):
        clock.advance(30)
        old = _beat(client, tab1, seq).get_json()
        new = _beat(client, tab2, seq).get_json()
        assert old["outcome"] == "superseded"
        assert new["outcome"] == "counted"
    assert enrollment_of(app, enrollment_id).read_seconds == 120


def test_player_heartbeat_post_sleeping_laptop_gap_not_counted(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """A beat after a long sleep counts nothing for the gap."""
    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    seq = _read(client, clock, tab, 60)
    clock.advance(2 * 3600)
    assert _beat(client, tab, seq).get_json()["outcome"] == "started"
    assert enrollment_of(app, enrollment_id).read_seconds == 60


def test_player_heartbeat_post_malformed_is_bad_request(client: FlaskClient, course: str) -> None:
    """A heartbeat that is not the expected JSON is a 400 with a message, never a 500."""
    assert client.post("/learn/api/heartbeat", data="x", content_type="text/plain").status_code == 400
    assert client.post("/learn/api/heartbeat", json={"tab": "x", "seq": "1"}).status_code == 400
    assert client.post("/learn/api/heartbeat", json={"tab": "x", "seq": True}).status_code == 400


def test_player_full_path_completes_once_all_three_conditions_hold(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """R4: reading ≥ 1 h, quiz passed and survey submitted complete the course and credit its hours."""
    enrollment_id, _ = enroll()
    token, tab = _open(app, client, enrollment_id)
    seq = _read(client, clock, tab, 1800)
    failed = _pass_quiz(client, token, answer="b")
    assert "Not passed yet" in failed.get_data(as_text=True) or "尚未通過" in failed.get_data(as_text=True)
    assert _survey(client, token).status_code == 409
    assert _pass_quiz(client, token).status_code == 200
    assert _survey(client, token).status_code == 303
    row = enrollment_of(app, enrollment_id)
    assert row.completed_at is None
    assert row.best_score == 100.0
    _read(client, clock, tab, 1800, seq)
    row = enrollment_of(app, enrollment_id)
    assert row.read_seconds == 3600
    assert row.completed_at is not None
    assert row.credited_tenths == 10
    assert _pass_quiz(client, token).status_code == 409


def test_player_reading_one_beat_short_does_not_complete(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any) -> None:
    """R4: with quiz and survey done but reading 30 s short of the hour, nothing is credited."""
    enrollment_id, _ = enroll()
    token, tab = _open(app, client, enrollment_id)
    _pass_quiz(client, token)
    _survey(client, token)
    _read(client, clock, tab, 3570)
    row = enrollment_of(app, enrollment_id)
    assert row.read_seconds == 3570
    assert row.completed_at is None
    assert row.credited_tenths == 0


def test_player_survey_post_twice_is_conflict(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any]) -> None:
    """A survey is taken once; a second submission is a 409 with a message."""
    enrollment_id, _ = enroll()
    token, _tab = _open(app, client, enrollment_id)
    _pass_quiz(client, token)
    assert _survey(client, token).status_code == 303
    assert _survey(client, token).status_code == 409


def test_player_survey_post_incomplete_answers_is_bad_request(app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any]) -> None:
    """Survey ratings must each be 1 to 5."""
    enrollment_id, _ = enroll()
    token, _tab = _open(app, client, enrollment_id)
    _pass_quiz(client, token)
    response = client.post(f"/learn/{token}/survey", data={"useful": "9", "quality": "4", "recommend": "5"})
    assert response.status_code == 400
    assert enrollment_of(app, enrollment_id).survey_submitted_at is None


def test_player_zero_hour_course_completes_without_credit(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """R6: a 0-hour item completes when quiz and survey are done, crediting 0 h."""
    from .conftest import add_course

    add_course(app, "TED0", hours_tenths=0)
    enrollment_id, _ = enroll(custom={"catalog_course": "TED0"})
    token, _tab = _open(app, client, enrollment_id)
    _pass_quiz(client, token)
    _survey(client, token)
    row = enrollment_of(app, enrollment_id)
    assert row.completed_at is not None
    assert row.credited_tenths == 0


def test_player_close_post_records_terminated_once_and_stops_clock(
    app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any
) -> None:
    """Closing the page (its pagehide beacon) records one `terminated` with the page's time and pauses the clock."""
    from .conftest import queued_statements

    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    seq = _read(client, clock, tab, 90)
    assert client.post("/learn/api/close", data=f'{{"tab": "{tab}"}}', content_type="text/plain").status_code == 204
    assert client.post("/learn/api/close", json={"tab": tab}).status_code == 204
    terminated = [st for st in queued_statements(app) if st["verb"]["id"].endswith("/terminated")]
    assert len(terminated) == 1
    assert terminated[0]["result"]["duration"] == "PT1M30S"
    clock.advance(30)
    assert _beat(client, tab, seq).get_json()["outcome"] == "started"
    assert client.post("/learn/api/close", json={"tab": "forged"}).status_code == 403


def test_player_enroll_race_keeps_one_enrollment(app: Flask, course: str, enroll: Callable[..., Any]) -> None:
    """When two launches of one learner race, the loser finds the winner's enrollment instead of failing."""
    from sqlalchemy import func, select

    from lrs.db import get_db
    from lti_tool.learning import service
    from lti_tool.learning.models import LearningEnrollment

    from .conftest import launch

    first_id, _ = enroll()
    with app.test_request_context(), get_db(app).session() as session:
        snapshot = service.load_course(session, "C1")
        assert service._create_enrollment(session, launch(), snapshot, dt.datetime.now(dt.UTC)) is None
        again = service.enroll(session, launch(), snapshot)
        assert again.id == first_id and again.launch_count == 2
        assert session.scalar(select(func.count()).select_from(LearningEnrollment)) == 1


def test_player_heartbeat_post_concurrent_replays_count_once(
    app: Flask, client: FlaskClient, course: str, enroll: Callable[..., Any], clock: Any
) -> None:
    """The same heartbeat sent from several connections at once counts once; the others are replays."""
    import threading

    enrollment_id, _ = enroll()
    _token, tab = _open(app, client, enrollment_id)
    clock.advance(30)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def send() -> None:
        own = app.test_client()
        barrier.wait()
        statuses.append(own.post("/learn/api/heartbeat", json={"tab": tab, "seq": 1}).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200] + [409] * 5
    assert enrollment_of(app, enrollment_id).read_seconds == 30


def test_player_get_hosted_video_plays_in_page_and_embeds_in_frame(app: Flask, client: FlaskClient, enroll: Callable[..., Any]) -> None:
    """A hosted video file plays in a <video> element; a TED/YouTube style embed plays in an iframe."""
    from lrs.db import get_db
    from lti_tool.catalog.models import CatalogCourse

    from .conftest import add_course

    add_course(app, "VID")
    with get_db(app).session() as session:
        course = session.query(CatalogCourse).filter_by(code="VID").one()
        course.embed_url = "https://media.example.org/lecture.mp4"
    add_course(app, "TED1")
    hosted, _ = enroll(custom={"catalog_course": "VID"})
    embedded, _ = enroll(custom={"catalog_course": "TED1"}, resource_link_id="rl-2")
    with app.test_request_context():
        hosted_page = client.get(f"/learn/{player_token(hosted)}").get_data(as_text=True)
        embedded_page = client.get(f"/learn/{player_token(embedded)}").get_data(as_text=True)
    assert '<video controls preload="metadata" width="720" src="https://media.example.org/lecture.mp4"' in hosted_page
    assert '<iframe src="https://www.youtube-nocookie.com/embed/TED1"' in embedded_page
