"""Test the xAPI statements built for a learner's path (xAPI 1.0.3 Data section 2)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from lti_tool.learning import statements as st

AT = dt.datetime(2026, 3, 5, 9, 30, 15, 123456, tzinfo=dt.UTC)
REG = uuid.UUID("0b1c7bd1-38c1-4c7e-8d0b-1f5d0c3a8f11")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _ctx(**changes: object) -> st.StatementContext:
    values: dict[str, object] = {
        "base_url": "https://lb.example.gov.tw",
        "issuer": "https://moodle.example.gov.tw",
        "sub": "user-42",
        "registration": REG,
        "course_code": "WB-PPP",
        "course_title_en": "Public-Private Partnerships",
        "course_title_zh": "公私協力",
        "hours_tenths": 15,
        "platform_name": "Moodle",
        "learner_name": "王小明",
        "language": "zh-TW",
        "lms_context_id": "course 7",
        "lms_context_title": "國際課程",
        "resource_link_id": "rl-1",
        "category_codes": ("127", "44"),
    }
    values.update(changes)
    return st.StatementContext(**values)  # type: ignore[arg-type]


def test_statement_actor_is_platform_account() -> None:
    """Per xAPI 1.0.3 Data 2.4.2.4: the actor is an account with homePage (platform issuer) and name (LTI sub)."""
    statement = st.launched(_ctx(), 1, AT)
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://moodle.example.gov.tw", "name": "user-42"},
        "name": "王小明",
    }


def test_statement_context_has_registration_lms_course_platform_language_and_extensions() -> None:
    """Per xAPI 1.0.3 Data 2.4.6: registration, contextActivities, platform, language and extensions."""
    context = st.completed(_ctx(), 5400, 90.0, 15, AT)["context"]
    assert context["registration"] == str(REG)
    assert context["platform"] == "Moodle"
    assert context["language"] == "zh-TW"
    grouping = context["contextActivities"]["grouping"][0]
    assert grouping["id"] == "https://moodle.example.gov.tw/lti/contexts/course%207"
    assert grouping["definition"]["name"] == {"und": "國際課程"}
    ext = context["extensions"]
    assert ext["https://lb.example.gov.tw/xapi/extensions/course-code"] == "WB-PPP"
    assert ext["https://lb.example.gov.tw/xapi/extensions/certified-hours"] == 1.5
    assert ext["https://lb.example.gov.tw/xapi/extensions/category-codes"] == ["127", "44"]
    assert ext["https://lb.example.gov.tw/xapi/extensions/lti-resource-link"] == "rl-1"


def test_statement_object_is_catalog_course_activity() -> None:
    """Per xAPI 1.0.3 Data 2.4.4.1: the object is the catalog course with a language-map name and a type."""
    obj = st.launched(_ctx(), 1, AT)["object"]
    assert obj["id"] == "https://lb.example.gov.tw/catalog/courses/WB-PPP"
    assert obj["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"
    assert obj["definition"]["name"] == {"en-US": "Public-Private Partnerships", "zh-TW": "公私協力"}


def test_statement_completed_result_has_score_success_completion_duration() -> None:
    """Per xAPI 1.0.3 Data 2.4.5: completed carries completion, success, duration and score."""
    statement = st.completed(_ctx(), 5400, 90.0, 15, AT)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    result = statement["result"]
    assert result["completion"] is True
    assert result["success"] is True
    assert result["duration"] == "PT1H30M"
    assert result["score"] == {"scaled": 0.9, "raw": 90.0, "min": 0, "max": 100}
    assert result["extensions"]["https://lb.example.gov.tw/xapi/extensions/credited-hours"] == 1.5
    assert statement["timestamp"] == "2026-03-05T09:30:15.123Z"


def test_statement_completed_says_survey_submitted_when_the_course_asks_one() -> None:
    """The completed result carries survey-submitted only when the course has a survey (evidence contract)."""
    key = "https://lb.example.gov.tw/xapi/extensions/survey-submitted"
    assert st.completed(_ctx(), 5400, 90.0, 15, AT, survey_submitted=True)["result"]["extensions"][key] is True
    assert key not in st.completed(_ctx(), 5400, 90.0, 15, AT)["result"]["extensions"]


def test_statement_completed_without_test_has_no_score() -> None:
    """A course without a test completes without a score."""
    assert "score" not in st.completed(_ctx(), 5400, None, 15, AT)["result"]


@pytest.mark.parametrize(("score", "verb", "success"), [(80.0, "passed", True), (79.9, "failed", False), (100.0, "passed", True)])
def test_statement_quiz_attempt_is_passed_or_failed_at_pass_mark(score: float, verb: str, success: bool) -> None:
    """A quiz attempt at or above the pass mark is `passed`, below it `failed` (R4)."""
    statement = st.passed_or_failed(_ctx(), 1, score, 80, AT)
    assert statement["verb"]["id"] == f"http://adlnet.gov/expapi/verbs/{verb}"
    assert statement["result"]["success"] is success
    assert -1 <= statement["result"]["score"]["scaled"] <= 1


def test_statement_ids_are_deterministic_and_distinct_per_event() -> None:
    """The same event gives the same id (redelivery never duplicates); different events differ."""
    ctx = _ctx()
    ids = [
        st.launched(ctx, 1, AT)["id"],
        st.launched(ctx, 2, AT)["id"],
        st.initialized(ctx, "t1", AT)["id"],
        st.terminated(ctx, "t1", 30, AT)["id"],
        st.progressed(ctx, 25, 900, AT)["id"],
        st.progressed(ctx, 50, 1800, AT)["id"],
        st.passed_or_failed(ctx, 1, 50, 60, AT)["id"],
        st.passed_or_failed(ctx, 2, 70, 60, AT)["id"],
        st.completed(ctx, 10, 70, 15, AT)["id"],
        st.answered(ctx, 1, "q1", "b", True, AT)["id"],
    ]
    assert len(set(ids)) == len(ids)
    assert all(UUID_RE.match(value) for value in ids)
    assert st.launched(ctx, 1, AT + dt.timedelta(hours=1))["id"] == ids[0]
    other = _ctx(registration=uuid.UUID("9a0c7bd1-38c1-4c7e-8d0b-1f5d0c3a8f11"))
    assert st.launched(other, 1, AT)["id"] != ids[0]


def test_statement_answered_has_question_object_and_course_parent() -> None:
    """An answered statement's object is the question; the course is the context parent."""
    statement = st.answered(_ctx(), 1, "q 1", "b", False, AT)
    assert statement["object"]["id"] == "https://lb.example.gov.tw/catalog/courses/WB-PPP/quiz/q%201"
    assert statement["context"]["contextActivities"]["parent"][0]["id"].endswith("/catalog/courses/WB-PPP")
    assert statement["result"] == {"response": "b", "success": False}


def test_statement_progressed_refuses_impossible_milestones() -> None:
    """A progress milestone is a percentage from 1 to 100."""
    assert st.progressed(_ctx(), 100, 10, AT)["result"]["extensions"]
    with pytest.raises(ValueError, match="percentage"):
        st.progressed(_ctx(), 0, 10, AT)


def test_statement_without_lms_context_or_optional_fields_omits_them() -> None:
    """Optional context parts are left out rather than sent empty."""
    statement = st.launched(_ctx(lms_context_id="", platform_name="", language="", learner_name="", category_codes=()), 1, AT)
    assert "contextActivities" not in statement["context"]
    assert "platform" not in statement["context"]
    assert "language" not in statement["context"]
    assert "name" not in statement["actor"]


def test_statement_naive_timestamp_is_refused() -> None:
    """Timestamps must carry a timezone (xAPI 1.0.3 Data 2.4.7)."""
    with pytest.raises(ValueError, match="timezone"):
        st.launched(_ctx(), 1, dt.datetime(2026, 1, 1))
