"""Test the catalog's pure rules: course validation, hours, workflow and ranking (B1, B3, B6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lrs.certification.codes import is_valid_code
from lti_tool.catalog.domain import (
    CHECKLIST,
    Action,
    Format,
    Status,
    ValidationFailed,
    next_status,
    normalise_search,
    rank_score,
    review_flags,
    search_terms,
    validate_course,
)


def course_row(**overrides: Any) -> dict[str, Any]:
    """Return a valid course row with changes (the same row as the area's fixtures use)."""
    row: dict[str, Any] = {
        "code": "TEST-101", "title_zh": "公共政策英語簡報", "title_en": "Presenting Public Policy in English",
        "provider_name_en": "Test University", "provider_country": "GB", "format": "mooc", "languages": "en",
        "subtitle_languages": "en; zh-Hant", "url": "https://courses.example.org/policy-english",
        "effort_hours": "12", "hours": "6", "segments": "202:4; 505:2", "has_test": "yes", "pass_mark": "80",
    }
    row.update(overrides)
    return row


def problems_of(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_course(course_row(**overrides), is_valid_code)
    return {p.field: p.text() for p in caught.value.problems}


def test_course_validate_accepts_a_complete_course() -> None:
    """A complete row gives exact hours, its segments and the derived digital/physical split."""
    data = validate_course(course_row(), is_valid_code)
    assert data.code == "TEST-101"
    assert data.hours == Decimal("6.0")
    assert [(s.code, s.hours) for s in data.segments] == [("202", Decimal("4.0")), ("505", Decimal("2.0"))]
    assert (data.digital_hours, data.physical_hours) == (Decimal("6.0"), Decimal("0.0"))
    assert data.languages == ["en"] and data.subtitle_languages == ["en", "zh-Hant"]
    assert data.pass_mark == 80 and not data.pass_mark_defaulted


def test_course_validate_defaults_missing_pass_mark_to_60_and_flags_it() -> None:
    """R5: a course with a test and no declared pass mark gets 60 and is flagged for review."""
    data = validate_course(course_row(pass_mark=""), is_valid_code)
    assert data.pass_mark == 60 and data.pass_mark_defaulted
    assert any("R5" in flag for flag in review_flags(data))


def test_course_validate_course_without_test_has_no_pass_mark() -> None:
    """R4: a pure-reading item has no test, so no pass mark; giving one is refused."""
    data = validate_course(course_row(has_test="no", pass_mark=""), is_valid_code)
    assert data.pass_mark is None and not data.pass_mark_defaulted
    assert "pass_mark" in problems_of(has_test="no", pass_mark="60")


@pytest.mark.parametrize(("overrides", "field", "fragment"), [
    ({"segments": "999999:6"}, "segments", "Category code 999999 is not in the lifelong-learning portal's code table"),
    ({"segments": "202:4; 505:1"}, "segments", "add up to 5 h but the certified hours are 6 h"),
    ({"segments": "202:3; 202:3"}, "segments", "appears twice"),
    ({"segments": "202"}, "segments", "code:hours"),
    ({"segments": ""}, "segments", "at least one category code"),
    ({"hours": "-2", "segments": "202:-2"}, "hours", "Hours cannot be negative (got -2)"),
    ({"hours": "5000", "segments": "202:5000"}, "hours", "5000 hours is more than any single course carries"),
    ({"hours": "1.25", "segments": "202:1.25"}, "hours", "at most one decimal place (got 1.25)"),
    ({"hours": "six"}, "hours", "six is not a number of hours"),
    ({"hours": "NaN"}, "hours", "NaN is not a number of hours"),
    ({"hours": "20", "segments": "202:20"}, "hours", "cannot exceed the provider's stated effort (12 h)"),
    ({"url": "not a url"}, "url", "contains spaces"),
    ({"url": "ftp://files.example.org/x"}, "url", "must start with https:// or http://"),
    ({"url": "javascript:alert(1)"}, "url", "must start with https:// or http://"),
    ({"url": "https://"}, "url", "no valid host name"),
    ({"url": "https://user:pw@example.org/"}, "url", "user name or password"),
    ({"url": ""}, "url", "required"),
    ({"code": "a b"}, "code", "A course code has 3 to 40"),
    ({"title_en": ""}, "title_en", "required"),
    ({"title_zh": "x" * 301}, "title_zh", "300 characters"),
    ({"languages": "english!"}, "languages", "is not a language tag"),
    ({"languages": ""}, "languages", "at least one language"),
    ({"provider_country": "USA"}, "provider_country", "two-letter ISO code"),
    ({"format": "podcast"}, "format", "Use one of: mooc, talk"),
    ({"pass_mark": "120"}, "pass_mark", "0 to 100 (got 120)"),
    ({"class_start": "2026-12-31", "class_end": "2026-01-01"}, "class_end", "ends (2026-01-01) before it starts"),
    ({"licence_until": "31/12/2026"}, "licence_until", "YYYY-MM-DD"),
    ({"has_test": "maybe"}, "has_test", "yes or no"),
    ({"title_en": "bad\x00title"}, "title_en", "control characters"),
])
def test_course_validate_refuses_bad_input_with_a_precise_message(overrides: dict[str, Any], field: str,
                                                                  fragment: str) -> None:
    """Each kind of bad input is refused with a message naming the field and the problem."""
    found = problems_of(**overrides)
    assert field in found, found
    assert fragment in found[field]


def test_course_validate_blended_programme_needs_its_split() -> None:
    """R9: a blended programme declares digital and physical hours that add up to the total."""
    assert "digital_hours" in problems_of(format="blended")
    data = validate_course(course_row(format="blended", digital_hours="2", physical_hours="4"), is_valid_code)
    assert (data.digital_hours, data.physical_hours) == (Decimal("2.0"), Decimal("4.0"))
    assert "adds up" not in str(problems_of(format="blended", digital_hours="2", physical_hours="5"))
    assert "must add up" in problems_of(format="blended", digital_hours="2", physical_hours="5")["digital_hours"]


def test_course_validate_zero_hour_talk_is_tracked_and_flagged() -> None:
    """R6: a single talk credits 0 h; it is accepted and flagged as needing a bundle."""
    data = validate_course(course_row(format="talk", hours="0", segments="124:0", has_test="no", pass_mark="",
                                      effort_hours=""), is_valid_code)
    assert data.hours == 0
    assert any("R6" in flag for flag in review_flags(data))
    assert "segments" in problems_of(hours="6", segments="202:6; 505:0")


def test_course_validate_flags_mooc_above_the_suggested_cap() -> None:
    """R13: more than 20 certified hours for one MOOC is flagged, not refused."""
    data = validate_course(course_row(hours="24", segments="202:24", effort_hours="39"), is_valid_code)
    assert data.format is Format.MOOC
    assert any("R13" in flag for flag in review_flags(data))


def test_course_validate_accepts_json_native_values() -> None:
    """JSON imports give lists, numbers and booleans; they validate like text."""
    data = validate_course(course_row(segments=[{"code": "202", "hours": 4}, {"code": "505", "hours": 2.0}],
                                      languages=["en"], has_test=True, pass_mark=70, hours=6), is_valid_code)
    assert data.pass_mark == 70 and data.hours == Decimal("6.0")


def test_workflow_next_status_follows_draft_review_published_retired() -> None:
    """B3: draft -> in review -> (approved) published -> retired -> reopened as draft."""
    every = [key for key, _ in CHECKLIST]
    assert next_status(Status.DRAFT, Action.SUBMIT, approved=False) is Status.IN_REVIEW
    assert next_status(Status.IN_REVIEW, Action.APPROVE, approved=False, checklist=every) is Status.IN_REVIEW
    assert next_status(Status.IN_REVIEW, Action.PUBLISH, approved=True) is Status.PUBLISHED
    assert next_status(Status.PUBLISHED, Action.RETIRE, approved=True) is Status.RETIRED
    assert next_status(Status.RETIRED, Action.REOPEN, approved=False) is Status.DRAFT


@pytest.mark.parametrize(("status", "action", "approved", "checklist", "fragment"), [
    (Status.DRAFT, Action.PUBLISH, True, (), "cannot be sent to 'publish'"),
    (Status.IN_REVIEW, Action.PUBLISH, False, (), "must approve"),
    (Status.IN_REVIEW, Action.APPROVE, False, ("link", "licence"), "missing: provider"),
    (Status.PUBLISHED, Action.SUBMIT, True, (), "cannot be sent to 'submit'"),
])
def test_workflow_next_status_refuses_steps_out_of_order(status: Status, action: Action, approved: bool,
                                                         checklist: tuple[str, ...], fragment: str) -> None:
    """B3: publishing needs an approval against the full checklist; steps cannot be skipped."""
    with pytest.raises(ValueError, match=fragment):
        next_status(status, action, approved=approved, checklist=checklist)


def test_rank_score_rises_with_popularity_completion_rating_and_recommendation() -> None:
    """B6: each ranking signal lifts the score; completion rate counts, not just completions."""
    base = rank_score(10, 5, 0, 0, False)
    assert rank_score(100, 50, 0, 0, False) > base
    assert rank_score(10, 9, 0, 0, False) > base
    assert rank_score(10, 5, 25, 5, False) > base
    assert rank_score(10, 5, 0, 0, True) > base
    assert rank_score(10, 5, 5, 5, False) < base  # five 1-star ratings


def test_search_normalise_folds_width_and_case() -> None:
    """Full-width letters and digits and upper case fold so that either spelling finds the other."""
    assert normalise_search("ＡＩ　For Everyone") == "ai for everyone"
    assert search_terms("  公民  Engagement ") == ["公民", "engagement"]
