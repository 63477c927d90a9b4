"""Test the LTI round trips against a live test LMS: launches, AGS scores, deep linking, NRPS overview."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.outbox import core as outbox
from lrs.staff import Role
from lti_tool.learning import delivery
from lti_tool.learning.models import LearningScoreSend

from .conftest import add_course
from .lms import INSTRUCTOR, LEARNER, TestLms
from .test_player import TAB_RE, _pass_quiz, _read, _survey

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"



@pytest.fixture
def fast_app(app: Flask) -> Flask:
    """Make outbox retries due at once, so a test can show delivery after an outage."""
    app.config.update(OUTBOX_BACKOFF_BASE_SECONDS=0.001, OUTBOX_BACKOFF_MAX_SECONDS=0.002)
    return app


def _launch_to_player(client: FlaskClient, lms: TestLms, **claims: Any) -> tuple[str, str]:
    launched = lms.launch(client, **claims)
    assert launched.status_code == 303, launched.get_data(as_text=True)
    start = client.get(launched.location)
    assert start.status_code == 303, start.get_data(as_text=True)
    page = client.get(start.location)
    assert page.status_code == 200, page.get_data(as_text=True)
    match = TAB_RE.search(page.get_data(as_text=True))
    assert match
    return start.location.rsplit("/", 1)[-1], match.group(1)


def _deliver(app: Flask) -> outbox.Report:
    return outbox.deliver_until_idle(app)


def test_lti_launch_learner_completes_and_lms_gets_score(
    fast_app: Flask, client: FlaskClient, lms: TestLms, clock: Any, xapi_headers: dict[str, str]
) -> None:
    """A learner meeting R4 gets one Completed/FullyGraded score in the LMS gradebook (AGS 2.0 §3.4)."""
    add_course(fast_app, "C1", hours_tenths=1)
    token, tab = _launch_to_player(client, lms)
    _pass_quiz(client, token)
    assert _survey(client, token).status_code == 303
    _read(client, clock, tab, 360)
    report = _deliver(fast_app)
    assert report.dead == 0, report.errors
    assert len(lms.records.line_items) == 1
    item = next(iter(lms.records.line_items.values()))
    assert item["resourceId"] == "C1" and item["resourceLinkId"] == "rl-1" and item["scoreMaximum"] == 100
    final = [s for s in lms.records.scores if s["activityProgress"] == "Completed"]
    assert len(final) == 1
    assert final[0]["gradingProgress"] == "FullyGraded"
    assert final[0]["scoreGiven"] == 100.0 and final[0]["scoreMaximum"] == 100
    assert final[0]["userId"] == "learner-1"
    # AGS §3.4: the scores endpoint is the line item URL with /scores on its path, query kept.
    assert final[0]["_lineitem"].endswith("?type=grade")
    assert all(s["activityProgress"] == "InProgress" and "scoreGiven" not in s
               for s in lms.records.scores if s is not final[0])
    # One token served every call of the run (cached), with the AGS scopes.
    assert len(lms.records.tokens) == 1
    statements = client.get("/xapi/statements?verb=http://adlnet.gov/expapi/verbs/completed", headers=xapi_headers)
    completed = statements.get_json()["statements"]
    assert len(completed) == 1
    assert completed[0]["actor"]["account"] == {"homePage": lms.issuer, "name": "learner-1"}
    assert completed[0]["context"]["platform"] == "Test LMS"


def test_lti_launch_learner_missing_survey_gets_no_score(
    fast_app: Flask, client: FlaskClient, lms: TestLms, clock: Any
) -> None:
    """A learner who reads and passes but skips the survey gets no score (R4: no partial credit)."""
    add_course(fast_app, "C1", hours_tenths=1)
    token, tab = _launch_to_player(client, lms)
    _pass_quiz(client, token)
    _read(client, clock, tab, 360)
    _deliver(fast_app)
    assert lms.records.scores, "progress is reported"
    assert not [s for s in lms.records.scores if "scoreGiven" in s or s["activityProgress"] == "Completed"]


def test_lti_ags_platform_outage_delivers_later_once(
    fast_app: Flask, client: FlaskClient, lms: TestLms, clock: Any, make_staff: Any, login: Any
) -> None:
    """Scores the LMS refused while down are retried from the outbox and arrive once each when it is back."""
    add_course(fast_app, "C1", hours_tenths=1)
    token, tab = _launch_to_player(client, lms)
    _pass_quiz(client, token)
    _survey(client, token)
    lms.records.down = True
    _read(client, clock, tab, 360)
    down = _deliver(fast_app)
    assert down.retried > 0 and down.dead == 0
    with get_db(fast_app).session() as session:
        failed = session.query(LearningScoreSend).filter_by(status="failed").all()
        assert failed and all("503" in send.last_error for send in failed)
    assert lms.records.scores == []
    login(*make_staff("admin", Role.ADMINISTRATOR))
    watch = client.get("/learning/staff/deliveries").get_data(as_text=True)
    assert "HTTP 503" in watch and "score-failed" in watch
    lms.records.down = False
    for _ in range(50):
        _deliver(fast_app)
        with get_db(fast_app).session() as session:
            pending = [row for row in outbox.status(session) if row.channel == delivery.SCORE_CHANNEL and row.pending]
        if not pending:
            break
    with get_db(fast_app).session() as session:
        sends = session.query(LearningScoreSend).all()
        assert sends and all(send.status == "sent" for send in sends)
    assert len(lms.records.scores) == len(sends)
    assert len(lms.records.line_items) == 1
    assert sum(s["activityProgress"] == "Completed" for s in lms.records.scores) == 1


def test_lti_deep_linking_round_trip_returns_signed_items(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """DL 2.0 §4.2: picked courses return as signed ltiResourceLinks with custom, lineItem and data echoed."""
    add_course(fast_app, "C1")
    add_course(fast_app, "C2", fmt="mooc")
    add_course(fast_app, "OLD", status="retired")
    settings = {
        "deep_link_return_url": lms.issuer + "/deep-link-return", "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": True,
        "accept_lineitem": True, "data": "opaque-123",
    }
    launched = lms.launch(client, role=INSTRUCTOR, message_type="LtiDeepLinkingRequest", **{DL_SETTINGS: settings})
    assert launched.status_code == 303, launched.get_data(as_text=True)
    picker = client.get(launched.location)
    assert picker.status_code == 200
    text = picker.get_data(as_text=True)
    assert 'value="C1"' in text and 'value="C2"' in text and 'value="OLD"' not in text
    lt = re.search(r'name="lt" value="([^"]+)"', text)
    assert lt
    answer = client.post("/learn/deep-link", data={"lt": lt.group(1), "course": ["C1", "C2"]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    page = answer.get_data(as_text=True)
    form = re.search(r'action="([^"]+)"', page.split('id="dl-return"', 1)[1])
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', page)
    assert form and jwt_value
    assert form.group(1) == settings["deep_link_return_url"]
    returned = requests.post(form.group(1), data={"JWT": jwt_value.group(1)}, timeout=5)
    assert returned.status_code == 200
    claims = lms.records.deep_links[0]
    assert claims["iss"] == lms.client_id and claims["aud"] == lms.issuer
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == lms.deployment_id
    assert claims[DL + "data"] == "opaque-123"
    items = claims[DL + "content_items"]
    assert [item["custom"]["catalog_course"] for item in items] == ["C1", "C2"]
    assert all(item["type"] == "ltiResourceLink" and item["title"] and "iframe" in item for item in items)
    assert items[0]["lineItem"] == {"scoreMaximum": 100, "label": items[0]["title"], "resourceId": "C1",
                                    "tag": "lifelong-learning-completion"}
    assert items[0]["url"] == "http://lb.test/lti/launch"
    assert items[0]["icon"] == {"url": "http://lb.test/learn/static/course-icon.svg", "width": 64, "height": 64}
    icon = client.get("/learn/static/course-icon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()


def test_lti_deep_linking_single_choice_platform_refuses_two(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """When accept_multiple is false, two picked courses are refused with a message (DL 2.0 §4.4.1)."""
    add_course(fast_app, "C1")
    add_course(fast_app, "C2")
    settings = {"deep_link_return_url": lms.issuer + "/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window"], "accept_multiple": False}
    launched = lms.launch(client, role=INSTRUCTOR, message_type="LtiDeepLinkingRequest", **{DL_SETTINGS: settings})
    lt = re.search(r"lt=([^&]+)", launched.location)
    assert lt
    assert 'type="radio"' in client.get(launched.location).get_data(as_text=True)
    assert client.post("/learn/deep-link", data={"lt": lt.group(1), "course": ["C1", "C2"]}).status_code == 400
    one = client.post("/learn/deep-link", data={"lt": lt.group(1), "course": ["C1"]})
    assert one.status_code == 200
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', one.get_data(as_text=True))
    assert jwt_value
    requests.post(lms.issuer + "/deep-link-return", data={"JWT": jwt_value.group(1)}, timeout=5)
    item = lms.records.deep_links[0][DL + "content_items"][0]
    assert item["window"] == {"targetName": "_blank"} and "lineItem" not in item
    assert DL + "data" not in lms.records.deep_links[0]


def test_lti_launch_learner_cannot_deep_link(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """A learner's deep-linking launch is refused with 403."""
    settings = {"deep_link_return_url": lms.issuer + "/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"]}
    launched = lms.launch(client, role=LEARNER, message_type="LtiDeepLinkingRequest", **{DL_SETTINGS: settings})
    assert launched.status_code == 303, launched.get_data(as_text=True)
    assert client.get(launched.location).status_code == 403


def test_lti_launch_tampered_course_parameter_is_refused(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """A resource link whose course code no longer matches the tool's signature is refused with 403."""
    from lti_tool.learning.service import course_signature

    add_course(fast_app, "C1")
    add_course(fast_app, "C2")
    with fast_app.app_context():
        signature = course_signature("C1")
    custom = {"catalog_course": "C2", "catalog_course_sig": signature}
    launched = lms.launch(client, **{"https://purl.imsglobal.org/spec/lti/claim/custom": custom})
    refused = client.get(launched.location)
    assert refused.status_code == 403
    assert "遭到變更" in refused.get_data(as_text=True)


@pytest.mark.parametrize("code", ["OLD", "NOPE"])
def test_lti_launch_retired_or_unknown_course_is_explained(fast_app: Flask, client: FlaskClient, lms: TestLms, code: str) -> None:
    """A launch naming a retired or unknown course gets a 404 page that says what to do."""
    add_course(fast_app, "OLD", status="retired")
    launched = lms.launch(client, course=code)
    page = client.get(launched.location)
    assert page.status_code == 404
    assert "course staff" in page.get_data(as_text=True) or "課程" in page.get_data(as_text=True)


def test_lti_nrps_overview_follows_every_page(fast_app: Flask, client: FlaskClient, lms: TestLms, clock: Any) -> None:
    """NRPS 2.0 §2.4.1: the overview follows rel="next" through every page and lists each learner's standing."""
    add_course(fast_app, "C1", hours_tenths=1)
    learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    lms.records.members = [
        {"user_id": f"learner-{n}", "name": f"學員 {n}", "roles": [learner], "status": "Active"} for n in range(1, 6)
    ] + [{"user_id": "teacher-1", "name": "老師", "roles": [INSTRUCTOR]}]
    token, tab = _launch_to_player(client, lms)
    _pass_quiz(client, token)
    _survey(client, token)
    _read(client, clock, tab, 360)
    _launch_to_player(client, lms, sub="learner-2")
    launched = lms.launch(client, role=INSTRUCTOR, sub="teacher-1")
    overview = client.get(client.get(launched.location).location + "?lang=en")
    assert overview.status_code == 200, overview.get_data(as_text=True)
    page = overview.get_data(as_text=True)
    assert len(lms.records.roster_requests) == 3
    assert page.count('data-user="learner-') == 5
    assert 'data-user="teacher-1"' not in page
    assert "1 of 5 learners completed; 2 started." in page
    rows = dict(re.findall(r'data-user="([^"]+)">.*?<td class="status">([^<]+)</td>', page, re.S))
    assert (rows["learner-1"], rows["learner-2"], rows["learner-3"]) == ("completed", "in progress", "not started")


def test_lti_ags_refused_score_is_given_up_and_shown(
    fast_app: Flask, client: FlaskClient, lms: TestLms, clock: Any
) -> None:
    """A score the LMS refuses for good (400) is not retried forever: it is marked failed and its message dead."""
    add_course(fast_app, "C1", hours_tenths=1)
    lms.records.score_status = 400
    token, tab = _launch_to_player(client, lms)
    _pass_quiz(client, token)
    _survey(client, token)
    _read(client, clock, tab, 360)
    report = outbox.deliver_until_idle(fast_app, channels=[delivery.SCORE_CHANNEL])
    assert report.dead > 0 and report.delivered == 0
    with get_db(fast_app).session() as session:
        sends = session.query(LearningScoreSend).all()
        assert sends and all(send.status == "failed" and "HTTP 400" in send.last_error for send in sends)
        dead = [row for row in outbox.status(session) if row.channel == delivery.SCORE_CHANNEL]
        assert dead[0].dead == len(sends)
    # An administrator fixes the cause and delivers again: nothing was lost.
    lms.records.score_status = 204
    with get_db(fast_app).session() as session:
        assert outbox.retry_dead(session, delivery.SCORE_CHANNEL) == len(sends)
    assert outbox.deliver_until_idle(fast_app, channels=[delivery.SCORE_CHANNEL]).delivered == len(sends)
    assert sum(s["activityProgress"] == "Completed" for s in lms.records.scores) == 1


def test_lti_ags_slow_platform_times_out_and_is_retried(
    database_url: str, tmp_path: Any, lms: TestLms
) -> None:
    """A platform slower than OUTBOUND_TIMEOUT_SECONDS is given up on for now and retried, never waited on."""
    import time

    import lti_tool
    from lti_tool.learning import service
    from tests.conftest import app_config

    from .conftest import launch as learner_launch

    tool = lti_tool.create_app(app_config(database_url, tmp_path / "slow", OUTBOUND_TIMEOUT_SECONDS="0.3",
                                          OUTBOX_BACKOFF_BASE_SECONDS=0.001, OUTBOX_BACKOFF_MAX_SECONDS=0.002))
    from lti_tool.keys import get_keyring

    lms.tool_jwks = get_keyring(tool).jwks()  # the lms fixture registered it in the shared database already
    add_course(tool, "C1", hours_tenths=0)
    info = learner_launch(issuer=lms.issuer, client_id=lms.client_id, deployment_id=lms.deployment_id,
                          ags_scopes=("https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                      "https://purl.imsglobal.org/spec/lti-ags/scope/score"),
                          ags_lineitems=f"{lms.issuer}/courses/course-7/lineitems")
    with tool.test_request_context(), get_db(tool).session() as session:
        enrollment = service.enroll(session, info, service.load_course(session, "C1"))
        service.grade_quiz(session, enrollment, {"q1": "a", "q2": "a"})
        service.submit_survey(session, enrollment, {"useful": "5", "quality": "5", "recommend": "5"}, "")
        assert enrollment.completed_at is not None
    lms.records.slow_seconds = 1.0
    started = time.monotonic()
    report = outbox.deliver_due(tool, channels=[delivery.SCORE_CHANNEL])
    assert time.monotonic() - started < 5
    assert report.retried == 2 and report.delivered == 0
    with get_db(tool).session() as session:
        assert all("within 0.3 s" in send.last_error for send in session.query(LearningScoreSend))
    lms.records.slow_seconds = 0
    assert outbox.deliver_until_idle(tool, channels=[delivery.SCORE_CHANNEL]).delivered == 2
    assert sorted(s["activityProgress"] for s in lms.records.scores) == ["Completed", "InProgress"]
    get_db(tool).dispose()


def test_lti_deep_linking_picker_searches_and_pages(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """The picker filters the catalog by words and format, and pages through long results."""
    for number in range(25):
        add_course(fast_app, f"T{number:02d}", fmt="talk" if number % 5 else "reading")
    settings = {"deep_link_return_url": lms.issuer + "/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"], "accept_multiple": True}
    launched = lms.launch(client, role=INSTRUCTOR, message_type="LtiDeepLinkingRequest", **{DL_SETTINGS: settings})
    first = client.get(launched.location + "&lang=en").get_data(as_text=True)
    assert first.count('name="course"') == 20 and "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('name="course"') == 5
    readings = client.get(launched.location + "&format=reading").get_data(as_text=True)
    assert readings.count('name="course"') == 5
    one = client.get(launched.location + "&q=T07").get_data(as_text=True)
    assert re.findall(r'name="course" value="([^"]+)"', one) == ["T07"]


def test_lti_overview_without_roster_lists_known_learners(fast_app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """When the LMS offers no NRPS claim, the overview says so and lists the learners who opened the course."""
    add_course(fast_app, "C1")
    no_roster = {"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": None}
    learner_token, _tab = _launch_to_player(client, lms, sub="learner-9", **no_roster)
    launched = lms.launch(client, role=INSTRUCTOR, sub="teacher-1", **no_roster)
    landing = client.get(launched.location)
    assert landing.status_code == 303 and "/overview" in landing.location
    page = client.get(landing.location + "?lang=en").get_data(as_text=True)
    assert "did not share its course roster" in page
    assert 'data-user="learner-9"' in page and lms.records.roster_requests == []
    # A learner's player token does not open the overview.
    assert client.get(f"/learn/{learner_token}/overview").status_code == 403


def test_lti_ags_tokens_cached_in_redis_across_apps(
    database_url: str, tmp_path: Any, lms: TestLms, redis_url: str, redis_prefix: str
) -> None:
    """With REDIS_URL, an access token obtained by one worker is reused by another until it expires."""
    import lti_tool
    from lti_tool.keys import get_keyring
    from lti_tool.learning.platform_client import access_token, credentials_for
    from tests.conftest import app_config

    def worker(name: str) -> Flask:
        return lti_tool.create_app(app_config(database_url, tmp_path / name, REDIS_URL=redis_url,
                                              REDIS_KEY_PREFIX=redis_prefix, KEYS_DIR=str(tmp_path / "keys")))

    first, second = worker("one"), worker("two")
    lms.tool_jwks = get_keyring(first).jwks()
    scopes = ("https://purl.imsglobal.org/spec/lti-ags/scope/score",)
    tokens = []
    for app in (first, second):
        with app.app_context(), get_db(app).session() as session:
            tokens.append(access_token(app, credentials_for(session, lms.issuer, lms.client_id), scopes))
    assert tokens[0] == tokens[1]
    assert len(lms.records.tokens) == 1
    for app in (first, second):
        get_db(app).dispose()
