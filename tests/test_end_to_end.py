"""Walk the product's spine end to end: curator publishes, learner completes in an LMS, hours reach the portal file.

Issues #6, #7 and #8 together, on the demo-mode product: a curator (the demo account) publishes a course
through the curation pages, which registers it for certification (D1); a learner launches it from a test
LMS that signs real LTI 1.3 launches, links their national ID through the `national_id` custom
parameter (D6), meets R4's three conditions (reading time, quiz at the pass mark, survey); the outbox
delivers the statements into the embedded LRS; the ledger's recompute credits the hours (D3); and the
25-column Big5 portal file for the learner's agency carries their row (D5, domain §2.1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

import lti_tool
from lrs.certification import idno, ledger, people, registry
from lrs.certification.cli import certification_group
from lrs.certification.exports import PORTAL_HEADER
from lrs.db import get_db
from lrs.outbox import core as outbox
from lti_tool.catalog.domain import CHECKLIST
from lti_tool.demo import DEMO_PASSWORD, load_all
from lti_tool.learning import service as learning
from lti_tool.learning.cli import learning_group
from tests.conftest import app_config, csrf_token_from
from tests.lti_tool.learning.conftest import Clock
from tests.lti_tool.learning.lms import LTI, TestLms
from tests.lti_tool.learning.test_player import TAB_RE, _pass_quiz, _read, _survey

AGENCY = "379680000A"
CODE = "E2E-GOV"
TITLE_ZH = "數位治理導論"
HOURS = 1


def valid_id(prefix: str = "C12345678") -> str:
    """Return a national ID number with a valid check digit (none of the demo people's)."""
    return next(prefix + d for d in "0123456789" if idno.is_valid(prefix + d))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Give the whole product in demo mode with its demo data loaded, outbox retries due at once."""
    application = lti_tool.create_app(app_config(
        database_url, tmp_path, DEMO_MODE=True, OUTBOX_BACKOFF_BASE_SECONDS=0.001, OUTBOX_BACKOFF_MAX_SECONDS=0.002))
    with application.app_context():
        load_all(application)
    yield application
    get_db(application).dispose()


def course_form() -> dict[str, Any]:
    """Return the curator's new-course form for a one-hour reading with a quiz and a survey."""
    return {
        "code": CODE, "kind": "course", "title_zh": TITLE_ZH, "title_en": "Introduction to Digital Governance",
        "description_zh": "數位治理的國際案例。", "description_en": "International cases of digital governance.",
        "provider_key": "oecd", "provider_name_en": "OECD", "provider_name_zh": "經濟合作暨發展組織",
        "provider_country": "FR", "provider_type": "international_organisation", "platform": "OECD",
        "format": "reading", "languages": "en", "subtitle_languages": "", "url": "https://www.oecd.org/digital-governance",
        "licence_holder": "All civil servants", "licence_agreement": "Open access", "effort": "1 hour",
        "effort_hours": "1", "hours": str(HOURS), "segments": f"505:{HOURS}", "has_test": "yes", "pass_mark": "60",
        "survey_required": "yes", "topics": "治理 Governance", "tags": "e2e",
    }


def publish_through_pages(client: FlaskClient) -> None:
    """Create, submit, review against the checklist and publish the course as the demo curator."""
    token = csrf_token_from(client, "/staff/login")
    assert client.post("/staff/login", data={"username": "curator", "password": DEMO_PASSWORD,
                                             "csrf_token": token}).status_code == 302
    created = client.post("/catalog/manage/new", data={**course_form(), "csrf_token": csrf_token_from(client, "/catalog/manage/new")})
    assert created.status_code == 302, created.get_data(as_text=True)
    detail = f"/catalog/manage/{CODE}"
    submitted = client.post(detail + "/action", data={"action": "submit", "csrf_token": csrf_token_from(client, detail)})
    assert submitted.status_code == 302
    review = detail + "/review"
    approved = client.post(review, data={"decision": "approve", "checklist": [k for k, _ in CHECKLIST],
                                         "csrf_token": csrf_token_from(client, review)})
    assert approved.status_code == 302
    published = client.post(detail + "/action", data={"action": "publish", "csrf_token": csrf_token_from(client, detail)})
    assert published.status_code == 302


def load_question_bank(app: Flask, tmp_path: Path) -> None:
    """Give the course a two-question quiz with `learning-bridge learning questions-import`."""
    bank = tmp_path / "bank.json"
    choices = [{"key": "a", "en": "Right", "zh": "對"}, {"key": "b", "en": "Wrong", "zh": "錯"}]
    bank.write_bytes(orjson.dumps({CODE: [
        {"key": f"q{n}", "prompt_en": f"Question {n}?", "prompt_zh": f"第 {n} 題？", "choices": choices, "answer": "a"}
        for n in (1, 2)]}))
    result = app.test_cli_runner().invoke(learning_group, ["questions-import", str(bank)])
    assert result.exit_code == 0, result.output


def portal_rows(folder: Path) -> list[list[str]]:
    """Return the data rows of every portal file written to a folder (zipped or not), decoded from Big5."""
    blobs: list[tuple[str, bytes]] = []
    for path in folder.iterdir():
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                blobs.extend((name, archive.read(name)) for name in archive.namelist())
        elif path.suffix == ".csv":
            blobs.append((path.name, path.read_bytes()))
    rows: list[list[str]] = []
    for name, data in blobs:
        if name.startswith("env"):
            continue
        text = data.decode("cp950")
        header, _, body = text.partition("\n")
        assert header == PORTAL_HEADER
        rows.extend(csv.reader(io.StringIO(body)))
    return rows


def launch_to_player(client: FlaskClient, lms: TestLms, sub: str, national_id: str) -> tuple[str, str]:
    """Launch the course from the LMS with the learner's ID in `national_id`; return the player and tab tokens."""
    custom = {"catalog_course": CODE, "national_id": national_id, "agency_code": AGENCY}
    launched = lms.launch(client, course=CODE, sub=sub, **{LTI + "custom": custom})
    assert launched.status_code == 303, launched.get_data(as_text=True)
    start = client.get(launched.location)
    assert start.status_code == 303 and "lti_id" not in start.location, start.get_data(as_text=True)
    player = client.get(start.location)
    text = player.get_data(as_text=True)
    assert player.status_code == 200 and national_id not in text
    tab = TAB_RE.search(text)
    assert tab
    return start.location.rsplit("/", 1)[-1], tab.group(1)


def test_end_to_end_course_published_completed_in_lms_and_exported_for_the_portal(
    app: Flask, client: FlaskClient, lms: TestLms, tmp_path: Path, xapi_headers: dict[str, str],
) -> None:
    """Issues #6-#8: catalog -> registry -> LTI launch with ID -> R4 -> outbox -> LRS -> ledger -> 25-column Big5 file."""
    national_id = valid_id()
    publish_through_pages(app.test_client())  # the curator's own browser
    with app.app_context(), get_db(app).session() as session:
        entry = registry.get_course(session, CODE)
        assert entry.active and entry.primary_code == "505" and entry.digital_tenths == HOURS * 10
        assert entry.activity_id == f"http://lb.test/catalog/courses/{CODE}"
    load_question_bank(app, tmp_path)

    clock = Clock()  # 2026-03-05 09:00 in Taipei
    app.extensions[learning.CLOCK_KEY] = clock
    token, tab = launch_to_player(client, lms, "civil-servant-7", national_id)
    # A colleague in the same LMS course reads and passes but skips the survey: R4 gives no partial credit.
    skipper_id = valid_id("D22345678")
    skip_token, skip_tab = launch_to_player(client, lms, "civil-servant-8", skipper_id)

    # R4: the quiz at the pass mark, the survey, and the full reading time measured from heartbeats.
    for who in (token, skip_token):
        quiz = _pass_quiz(client, who)
        assert quiz.status_code == 200 and 'id="cond-test" data-met="yes"' in quiz.get_data(as_text=True)
    assert _survey(client, token).status_code == 303
    _read(client, clock, tab, HOURS * 3600)
    _read(client, clock, skip_tab, HOURS * 3600)

    report = outbox.deliver_until_idle(app)
    assert report.dead == 0, report.errors
    completed = client.get(f"/xapi/statements?verb=http://adlnet.gov/expapi/verbs/completed&activity=http://lb.test/catalog/courses/{CODE}",
                           headers=xapi_headers).get_json()["statements"]
    assert len(completed) == 1
    assert completed[0]["actor"]["account"] == {"homePage": lms.issuer, "name": "civil-servant-7"}
    assert [s for s in lms.records.scores if s["activityProgress"] == "Completed"], "the LMS gradebook shows it too"

    def credits(sub: str = "civil-servant-7") -> list[tuple[str, str, int]]:
        with app.app_context(), get_db(app).session() as session:
            person = people.person_for_actor(session, lms.issuer, sub)
            assert person is not None and person.agency_code == AGENCY
            return [(course.course_code, credit.status, credit.digital_tenths)
                    for credit, course in ledger.credits_of(session, person.id, 2026)]

    # The stored-statement hook credited the completion as it arrived; the recompute (D3) agrees, twice over.
    assert credits() == [(CODE, "credited", HOURS * 10)]
    for _ in range(2):
        with app.app_context(), get_db(app).session() as session:
            ledger.recompute(session, [2026])
        assert credits() == [(CODE, "credited", HOURS * 10)]
        assert [status for _, status, _ in credits("civil-servant-8")] != ["credited"]

    hours_page = client.get(f"/learn/{token}/hours").get_data(as_text=True)
    assert f'data-course="{CODE}"' in hours_page and national_id not in hours_page

    out = tmp_path / "exports"
    result = app.test_cli_runner().invoke(certification_group, ["export", "--year", "2026", "--agency", AGENCY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert national_id not in result.output
    rows = portal_rows(out)
    assert not [row for row in rows if row[0] == skipper_id]
    mine = [row for row in rows if row[0] == national_id]
    assert len(mine) == 1
    row = dict(zip(PORTAL_HEADER.split(","), mine[0], strict=True))
    assert row["*課程名稱"] == TITLE_ZH
    assert row["*課程類別代碼"] == "505"
    assert row["*姓名"] == "林小華 Lin Hsiao-hua"
    assert row["*訓練總數"] == str(HOURS) and row["*數位時數"] == str(HOURS) and row["*實體時數"] == "0"
    assert row["*實際上課起始日期"] == "115-03-05" and row["*實際上課結束日期"] == "115-03-05"
    assert row["課程代碼"] == CODE
    check = app.test_cli_runner().invoke(certification_group, ["check-file", *map(str, out.glob("*.csv")), *map(str, out.glob("*.zip"))])
    assert check.exit_code == 0, check.output
