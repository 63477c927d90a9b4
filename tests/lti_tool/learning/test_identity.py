"""Test linking a learner's LMS account to their national ID and the learner's hours page (issue #8 D6, R1, R3)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.certification import people
from lrs.db import get_db
from lti_tool.learning.tokens import player_token
from tests.lti_tool.learning.conftest import ISSUER, add_course
from tests.lti_tool.learning.lms import LTI, TestLms

VALID_ID = "A123456789"
OTHER_VALID_ID = "F131104093"
BAD_CHECKSUM = "A123456788"
AGENCY = "379680000A"
CHECK_DIGIT = "The ID number's check digit does not match: check for a mistyped character."
CHECK_DIGIT_ZH = "身分證字號的檢查碼不符：請檢查是否有輸入錯誤的字元。"
TAKEN = "This ID number is already linked to another LMS account."



def token_for(app: Flask, enrollment_id: int, role: str = "learner") -> str:
    """Return a fresh player token of an enrollment."""
    with app.test_request_context():
        return player_token(enrollment_id, role)


def mapped(app: Flask, issuer: str, sub: str) -> str | None:
    """Return the masked ID of the person an account is linked to, or None."""
    with app.app_context(), get_db(app).session() as session:
        person = people.person_for_actor(session, issuer, sub)
        return None if person is None else person.id_masked


def claim_form(number: str, name: str = "林小華", agency: str = AGENCY) -> dict[str, str]:
    """Return the hours page's ID form as a browser posts it."""
    return {"national_id": number, "name": name, "agency_code": agency}


def test_hours_post_links_the_id_once_and_shows_it_masked(app: Flask, client: FlaskClient, course: str,
                                                          enroll: Callable[..., Any],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """D6: the learner enters the ID once; it is linked, shown only masked (A12****789) and never logged."""
    caplog.set_level(logging.DEBUG)
    enrollment_id, _ = enroll(locale="en-US")
    token = token_for(app, enrollment_id)
    form_page = client.get(f"/learn/{token}/hours")
    assert form_page.status_code == 200
    text = form_page.get_data(as_text=True)
    assert 'name="national_id"' in text and 'type="password"' in text and "Link my ID number" in text
    assert form_page.headers["Cache-Control"] == "no-store"

    linked = client.post(f"/learn/{token}/hours", data=claim_form(VALID_ID))
    assert linked.status_code == 303 and VALID_ID not in linked.location
    page = client.get(linked.location).get_data(as_text=True)
    assert "A12****789" in page and VALID_ID not in page
    assert "Your ID number was linked to this LMS account." in page
    assert mapped(app, ISSUER, "learner-1") == "A12****789"
    assert VALID_ID not in caplog.text
    # The same number again is a no-op; the form is gone once linked.
    assert 'name="national_id"' not in page


def test_hours_post_refuses_a_checksum_invalid_number_precisely(app: Flask, client: FlaskClient, course: str,
                                                                enroll: Callable[..., Any]) -> None:
    """D6 bad input: a number whose check digit is wrong is refused with what to check, and nothing is stored."""
    enrollment_id, _ = enroll(locale="en-US")
    token = token_for(app, enrollment_id)
    refused = client.post(f"/learn/{token}/hours", data=claim_form(BAD_CHECKSUM))
    assert refused.status_code == 400
    text = html.unescape(refused.get_data(as_text=True))
    assert CHECK_DIGIT in text and BAD_CHECKSUM not in text
    assert mapped(app, ISSUER, "learner-1") is None


def test_hours_post_refusal_is_in_chinese_by_default(app: Flask, client: FlaskClient, course: str,
                                                     enroll: Callable[..., Any]) -> None:
    """Pages in Traditional Chinese: a learner whose LMS speaks Chinese reads the refusal in Chinese."""
    enrollment_id, _ = enroll()
    token = token_for(app, enrollment_id)
    refused = client.post(f"/learn/{token}/hours", data=claim_form(BAD_CHECKSUM))
    assert refused.status_code == 400 and CHECK_DIGIT_ZH in refused.get_data(as_text=True)
    assert "我的認證時數" in refused.get_data(as_text=True)


def test_hours_post_refuses_a_number_claimed_by_another_account(app: Flask, client: FlaskClient, course: str,
                                                                enroll: Callable[..., Any]) -> None:
    """D6: an ID number belongs to one person; a second account claiming it is refused with an explanation."""
    first, _ = enroll(locale="en-US")
    assert client.post(f"/learn/{token_for(app, first)}/hours", data=claim_form(VALID_ID)).status_code == 303
    second, _ = enroll(sub="learner-2", locale="en-US")
    refused = client.post(f"/learn/{token_for(app, second)}/hours", data=claim_form(VALID_ID, name="王小明"))
    assert refused.status_code == 409
    text = html.unescape(refused.get_data(as_text=True))
    assert TAKEN in text and "ask your agency's certification staff" in text
    assert mapped(app, ISSUER, "learner-2") is None and mapped(app, ISSUER, "learner-1") == "A12****789"


def test_hours_post_refuses_a_second_number_for_a_linked_account(app: Flask, client: FlaskClient, course: str,
                                                                 enroll: Callable[..., Any]) -> None:
    """D6: an account linked to one number cannot switch to another by itself; the masked current one is named."""
    enrollment_id, _ = enroll(locale="en-US")
    token = token_for(app, enrollment_id)
    assert client.post(f"/learn/{token}/hours", data=claim_form(VALID_ID)).status_code == 303
    with app.test_request_context(), get_db(app).session() as session:
        from lti_tool.learning import identity

        with pytest.raises(Exception, match=r"already linked to a different ID number \(A12\*\*\*\*789\)"):
            identity.claim(session, issuer=ISSUER, sub="learner-1", id_number=OTHER_VALID_ID, name="林小華",
                           agency_code=AGENCY, source="learner")


def test_hours_post_new_person_needs_an_agency_code(app: Flask, client: FlaskClient, course: str,
                                                    enroll: Callable[..., Any]) -> None:
    """D6 bad input: a person not yet known needs the 10-character agency code; the message says so."""
    enrollment_id, _ = enroll(locale="en-US")
    refused = client.post(f"/learn/{token_for(app, enrollment_id)}/hours", data=claim_form(VALID_ID, agency="123"))
    assert refused.status_code == 400
    assert "Give your agency code (機關代碼): 10 letters or digits, such as 379680000A." in refused.get_data(as_text=True)


def test_hours_get_shows_quota_shortfall_for_a_linked_learner(app: Flask, client: FlaskClient, course: str,
                                                              enroll: Callable[..., Any]) -> None:
    """R1/R3: a linked learner with no credits sees this year's requirements and the 20 h shortfall."""
    enrollment_id, _ = enroll(locale="en-US")
    token = token_for(app, enrollment_id)
    client.post(f"/learn/{token}/hours", data=claim_form(VALID_ID))
    page = client.get(f"/learn/{token}/hours").get_data(as_text=True)
    assert "No certified hours yet this year." in page
    assert "Some requirements are not met yet." in page
    assert 'data-met="no"' in page and "0 h of 20 h required; short by 20 h." in page
    assert "業務相關學習時數 (business-related hours)" in page


def test_hours_get_is_in_chinese_for_a_chinese_lms(app: Flask, client: FlaskClient, course: str,
                                                   enroll: Callable[..., Any]) -> None:
    """Pages in Traditional Chinese: the hours page and its quota lines follow the launch's zh-TW locale."""
    enrollment_id, _ = enroll()
    token = token_for(app, enrollment_id)
    client.post(f"/learn/{token}/hours", data=claim_form(VALID_ID))
    page = client.get(f"/learn/{token}/hours").get_data(as_text=True)
    assert "年度學習時數規定" in page and "已取得 0 小時，應取得 20 小時；尚缺 20 小時。" in page
    assert "已連結的身分證字號：A12****789" in page


def test_hours_get_is_for_the_learner_only(app: Flask, client: FlaskClient, course: str,
                                           enroll: Callable[..., Any]) -> None:
    """D6 permissions: an instructor's player token cannot open a learner's hours page."""
    enrollment_id, _ = enroll()
    assert client.get(f"/learn/{token_for(app, enrollment_id, 'instructor')}/hours").status_code == 403


def test_player_get_links_the_hours_page_from_the_progress_panel(app: Flask, client: FlaskClient, course: str,
                                                                 enroll: Callable[..., Any]) -> None:
    """The player's progress panel links to the learner's hours page."""
    enrollment_id, _ = enroll()
    token = token_for(app, enrollment_id)
    page = client.get(f"/learn/{token}").get_data(as_text=True)
    assert f'href="/learn/{token}/hours"' in page and "我的年度認證時數" in page


def launch_with(client: FlaskClient, lms: TestLms, custom: dict[str, str]) -> Any:
    """Launch through the test LMS with these custom parameters and follow to the player's address."""
    launched = lms.launch(client, **{LTI + "custom": {"catalog_course": "C1", **custom}})
    assert launched.status_code == 303, launched.get_data(as_text=True)
    return client.get(launched.location)


def test_lti_launch_custom_national_id_links_the_account(app: Flask, client: FlaskClient, lms: TestLms) -> None:
    """D6: the `national_id` custom parameter (with `agency_code`) links the launching account at launch."""
    add_course(app, "C1")
    start = launch_with(client, lms, {"national_id": VALID_ID, "agency_code": AGENCY})
    assert start.status_code == 303 and "lti_id" not in start.location and VALID_ID not in start.location
    assert mapped(app, lms.issuer, "learner-1") == "A12****789"
    with app.app_context(), get_db(app).session() as session:
        person = people.person_for_actor(session, lms.issuer, "learner-1")
        assert person is not None and person.agency_code == AGENCY and person.name == "林小華 Lin Hsiao-hua"


def test_lti_launch_custom_national_id_invalid_is_explained_in_the_player(app: Flask, client: FlaskClient,
                                                                          lms: TestLms) -> None:
    """D6 bad input: a checksum-invalid number from the LMS does not block study; the player says why."""
    add_course(app, "C1")
    start = launch_with(client, lms, {"national_id": BAD_CHECKSUM, "agency_code": AGENCY})
    assert start.status_code == 303 and start.location.endswith("?lti_id=id1")
    page = client.get(start.location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert CHECK_DIGIT_ZH in text and BAD_CHECKSUM not in text
    assert mapped(app, lms.issuer, "learner-1") is None


def test_lti_launch_custom_national_id_taken_on_the_same_lms_is_refused(app: Flask, client: FlaskClient,
                                                                        lms: TestLms) -> None:
    """D6: a number already linked to another account of the same LMS is refused at launch, with the reason shown."""
    add_course(app, "C1")
    launch_with(client, lms, {"national_id": VALID_ID, "agency_code": AGENCY})
    launched = lms.launch(client, sub="learner-2", **{LTI + "custom": {"catalog_course": "C1", "national_id": VALID_ID}})
    start = client.get(launched.location)
    assert start.location.endswith("?lti_id=taken_lms")
    assert "已連結到此 LMS 的另一個帳號" in client.get(start.location).get_data(as_text=True)
    assert mapped(app, lms.issuer, "learner-2") is None


def test_hours_post_limits_refused_attempts_per_account(app: Flask, client: FlaskClient, course: str,
                                                        enroll: Callable[..., Any]) -> None:
    """D6 abuse: after 5 refused numbers in a day an account may not try more (no guessing who is registered)."""
    enrollment_id, _ = enroll(locale="en-US")
    token = token_for(app, enrollment_id)
    for _ in range(5):
        assert client.post(f"/learn/{token}/hours", data=claim_form(BAD_CHECKSUM)).status_code == 400
    blocked = client.post(f"/learn/{token}/hours", data=claim_form(VALID_ID))
    assert blocked.status_code == 429
    assert "Too many refused attempts to link an ID number" in blocked.get_data(as_text=True)
    assert mapped(app, ISSUER, "learner-1") is None
