"""Test rules R1-R15 of domain/certification.md §6 with the document's examples and their edges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lrs.certification import rules
from lrs.certification.rules import (
    EY_DEFAULT,
    Attempt,
    CourseTerms,
    ProfileBook,
    RuleError,
    SecurityRole,
    Segment,
    StaffCategory,
    check_compliance,
    lines,
)

D = Decimal
TPE = rules.TAIPEI
UTC = dt.UTC
R1_EXAMPLE = {"501": 1, "337": 4, "386": 1, "502": 2, "503": 2, "202": 10}


def outcome(result: rules.ComplianceResult, key: str) -> rules.QuotaOutcome:
    return next(o for o in result.outcomes if o.key == key)


# --- R1 -------------------------------------------------------------------------------------------------


def test_r1_check_compliance_document_example_is_compliant() -> None:
    """R1: {501:1, 337:4, 386:1, 502:2, 503:2, 202:10} is compliant with 20 h."""
    result = check_compliance(2026, lines(R1_EXAMPLE))
    assert result.compliant
    assert outcome(result, "total").earned == 20
    assert result.shortfalls == ()


def test_r1_check_compliance_env_three_hours_is_short_by_one() -> None:
    """R1: the same rows with 337:3 are not compliant; the ENV shortfall is 1 (and the total 19)."""
    result = check_compliance(2026, lines({**R1_EXAMPLE, "337": 3}))
    assert not result.compliant
    assert outcome(result, "env").shortfall == 1
    assert outcome(result, "total").shortfall == 1
    assert any("short by 1 h" in line and "337-345" in line for line in result.explain())


@pytest.mark.parametrize(("bucket", "code"), [("policy", "501"), ("env", "345"), ("gender", "413"), ("gender", "516"),
                                              ("gender", "517"), ("democracy", "7"), ("democracy", "505")])
def test_r1_check_compliance_bucket_codes_count(bucket: str, code: str) -> None:
    """R1: each bucket's codes, including its edges (345, 413, 516, 517, 7), count toward it."""
    result = check_compliance(2026, lines({code: 5}))
    assert outcome(result, bucket).earned == 5


@pytest.mark.parametrize("code", ["336", "346", "385", "414", "506", "8"])
def test_r1_check_compliance_neighbouring_codes_do_not_count(code: str) -> None:
    """R1: codes just outside the buckets count toward the total only."""
    result = check_compliance(2026, lines({code: 5}))
    assert outcome(result, "total").earned == 5
    assert all(outcome(result, k).earned == 0 for k in ("policy", "env", "gender", "democracy"))


def test_r1_check_compliance_bucket_excess_counts_toward_total() -> None:
    """R1: hours in a bucket beyond its quota still count toward the 20."""
    result = check_compliance(2026, lines({"501": 1, "337": 13, "386": 1, "502": 4, "7": 1}))
    assert result.compliant
    assert outcome(result, "total").earned == 20


def test_r1_check_compliance_excluded_group_not_business_related() -> None:
    """R1 [policy]: an agency profile may exclude a group (自我成長) from business-related hours."""
    profile = EY_DEFAULT.layer(key="A", name="a", valid_from=2017, excluded_groups=frozenset({"自我成長及其他(人文素養)"}))
    groups = {"202": "自我成長及其他(人文素養)"}
    result = check_compliance(2026, lines(R1_EXAMPLE), profile, group_of=groups)
    assert outcome(result, "total").earned == 10
    assert not result.compliant


def test_r1_check_compliance_as_dict_carries_explanations() -> None:
    """R1: the JSON form names each quota, its shortfall and explanation."""
    data = check_compliance(2026, lines({"337": 3})).as_dict()
    env = next(o for o in data["outcomes"] if o["key"] == "env")
    assert env["shortfall"] == "1" and env["met"] is False and "short by 1 h" in env["explanation"]


# --- R2 and profile versions ------------------------------------------------------------------------------


def test_r2_check_compliance_ey_default_has_no_digital_minimum() -> None:
    """R2: from 106 the EY default has no digital minimum: all-physical hours comply."""
    physical = [rules.CreditLine(c, D(h), physical=D(h)) for c, h in R1_EXAMPLE.items()]
    assert check_compliance(2026, physical).compliant


def test_r2_profile_book_resolves_old_rule_before_2017() -> None:
    """R2 / §1.1: before 106 the rule was 40 h with at least 5 h digital."""
    book = ProfileBook()
    old = book.resolve(None, 2016)
    assert old.valid_from == 2006
    result = check_compliance(2016, lines(R1_EXAMPLE), old)
    assert not result.compliant
    assert outcome(result, "all_hours").shortfall == 20
    assert book.resolve(None, 2017) is EY_DEFAULT


def test_r2_ntut_profile_permanent_needs_fifty_and_ten_digital() -> None:
    """R2: NTUT-style profile: permanent staff need 50 h total, 10 h digital, 30 h business, 3 h 資安."""
    profile = rules.ntut_style_profile("379680000A")
    book = ProfileBook().with_agency(profile)
    assert book.resolve("379680000A", 2026) is profile
    assert book.resolve("379680000A", 2017) is EY_DEFAULT  # not yet in force
    credit_lines = [rules.CreditLine(c, D(h), physical=D(h)) for c, h in R1_EXAMPLE.items()]
    result = check_compliance(2026, credit_lines, profile)
    assert outcome(result, "all_hours").shortfall == 30
    assert outcome(result, "digital").shortfall == 10
    assert outcome(result, "infosec").shortfall == 3
    assert outcome(result, "gender").required == 2
    assert "democracy" not in {o.key for o in result.outcomes}


def test_r2_ntut_profile_non_permanent_needs_thirty_and_five_digital() -> None:
    """R2: NTUT-style profile: non-permanent staff need 30 h total and 5 h digital."""
    profile = rules.ntut_style_profile("379680000A")
    result = check_compliance(2026, [], profile, category=StaffCategory.NON_PERMANENT)
    assert outcome(result, "all_hours").required == 30
    assert outcome(result, "digital").required == 5
    assert outcome(result, "policy").required == 1  # inherited from the EY default


def test_r2_profile_from_dict_layers_on_default() -> None:
    """R2: an agency profile from configuration layers on the EY default of its first year."""
    profile = rules.profile_from_dict({
        "agency": "360000000G", "valid_from": 2025, "name": "Demo agency",
        "requirements": [{"key": "total", "label": "business", "minimum": "25"},
                         {"key": "ai", "label": "AI", "minimum": 2, "codes": ["539", "540"]}],
        "cutoff_permanent": [11, 15],
    })
    assert profile.parent == "EY"
    assert [r.key for r in profile.requirements] == ["total", "policy", "env", "gender", "democracy", "ai"]
    assert profile.cutoff(2026, StaffCategory.PERMANENT) == dt.date(2026, 11, 15)
    with pytest.raises(RuleError):
        rules.profile_from_dict({"valid_from": 2025})


def test_r2_profile_book_before_any_profile_is_refused() -> None:
    """R2: a year before every known profile is refused with an explanation."""
    with pytest.raises(RuleError, match="No certification profile"):
        ProfileBook().resolve(None, 1990)


# --- R3 -------------------------------------------------------------------------------------------------


def test_r3_check_security_professional_hours_do_not_count_as_general() -> None:
    """R3: {523:6} for a general user gives a 522 shortfall of 3."""
    result = check_compliance(2026, lines({**R1_EXAMPLE, "523": 6}), security_role=SecurityRole.GENERAL)
    assert outcome(result, "security_general").shortfall == 3
    assert not result.compliant


def test_r3_check_security_dedicated_needs_twelve_of_523() -> None:
    """R3: 資安專職 need 523 >= 12 h a year; 11.9 h is short by 0.1."""
    short = rules.check_security(SecurityRole.DEDICATED, lines({"523": "11.9"}))
    assert short[0].shortfall == D("0.1")
    assert rules.check_security(SecurityRole.DEDICATED, lines({"523": 12}))[0].met


def test_r3_check_security_it_staff_523_spans_two_years() -> None:
    """R3: other IT staff need 522 >= 3 a year and 523 >= 3 over a rolling 2 years."""
    this_year = lines({"522": 3})
    assert not all(o.met for o in rules.check_security(SecurityRole.IT, this_year))
    outcomes = rules.check_security(SecurityRole.IT, this_year, previous_year_lines=lines({"523": 3}))
    assert all(o.met for o in outcomes)


def test_r3_check_security_521_counts_for_neither() -> None:
    """R3: the parent code 521 does not satisfy 522."""
    assert rules.check_security(SecurityRole.GENERAL, lines({"521": 5}))[0].earned == 0


# --- R4, R5, R6 -----------------------------------------------------------------------------------------


TERMS = CourseTerms(hours=D(2), has_test=True, pass_mark=D(60))


def test_r4_decide_credit_document_example_credits_two() -> None:
    """R4: H=2, P=60, readSec=7200, score=60 (exactly the pass mark), survey -> 2."""
    decision = rules.decide_credit(TERMS, Attempt(D(7200), D(60), survey_submitted=True))
    assert decision.credited and decision.hours == 2


def test_r4_decide_credit_one_second_short_credits_zero() -> None:
    """R4: with readSec = 7199 the credit is 0 and the explanation says 1 s short."""
    decision = rules.decide_credit(TERMS, Attempt(D(7199), D(100), survey_submitted=True))
    assert decision.hours == 0
    assert [c.key for c in decision.failures] == ["reading"]
    assert "1 s short" in decision.explain()[0]


def test_r4_decide_credit_score_just_below_pass_mark_credits_zero() -> None:
    """R4: best score 59.9 is below the pass mark 60."""
    decision = rules.decide_credit(TERMS, Attempt(D(7200), D("59.9"), survey_submitted=True))
    assert decision.hours == 0 and "below the pass mark" in decision.explain()[0]


def test_r4_decide_credit_no_survey_credits_zero() -> None:
    """R4: without the survey there is no credit."""
    decision = rules.decide_credit(TERMS, Attempt(D(7200), D(80), survey_submitted=False))
    assert decision.hours == 0 and [c.key for c in decision.failures] == ["survey"]


def test_r4_decide_credit_survey_before_test_passed_does_not_count() -> None:
    """R4: a survey submitted while the test is not passed does not satisfy the survey condition."""
    decision = rules.decide_credit(TERMS, Attempt(D(7200), D(40), survey_submitted=True))
    assert {c.key for c in decision.failures} == {"test", "survey"}
    assert any("only counts once the test is passed" in line for line in decision.explain())


def test_r4_decide_credit_no_test_course_needs_no_score() -> None:
    """R4: a course without a test credits on reading and survey alone."""
    terms = CourseTerms(hours=D(1), has_test=False)
    assert rules.decide_credit(terms, Attempt(D(3600), None, survey_submitted=True)).hours == 1


def test_r4_decide_credit_missing_score_is_explained() -> None:
    """R4: a tested course with no recorded score is not credited, and says so."""
    decision = rules.decide_credit(TERMS, Attempt(D(7200), None, survey_submitted=True))
    assert decision.hours == 0 and "No test score" in decision.explain()[0]


def test_r4_completion_moment_is_latest_condition() -> None:
    """R4: the completion moment is when the last condition came to hold."""
    t1 = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    t2 = dt.datetime(2026, 3, 2, 10, tzinfo=UTC)
    attempt = Attempt(D(7200), D(80), test_passed_at=t2, survey_submitted=True, survey_submitted_at=t1, completed_at=t1)
    assert rules.completion_moment(attempt) == t2


def test_r5_effective_pass_mark_defaults_to_sixty_and_flags() -> None:
    """R5: a tested course without a declared pass mark is judged at 60 and flagged for review."""
    terms = CourseTerms(hours=D(1), has_test=True, pass_mark=None)
    mark = rules.effective_pass_mark(terms)
    assert mark.value == 60 and mark.defaulted and "flagged for review" in mark.explanation
    decision = rules.decide_credit(terms, Attempt(D(3600), D(60), survey_submitted=True))
    assert decision.hours == 1 and decision.flags == ("pass_mark_defaulted",)


def test_r5_effective_pass_mark_declared_eighty_is_used() -> None:
    """R5: a declared pass mark of 80 refuses a score of 79."""
    terms = CourseTerms(hours=D(1), pass_mark=D(80))
    assert rules.decide_credit(terms, Attempt(D(3600), D(79), survey_submitted=True)).hours == 0
    assert rules.decide_credit(terms, Attempt(D(3600), D(80), survey_submitted=True)).hours == 1


def test_r6_decide_credit_zero_hour_course_credits_nothing() -> None:
    """R6: a 0 h course (a single TED talk) is tracked but credits 0 h."""
    decision = rules.decide_credit(CourseTerms(hours=D(0), has_test=False), Attempt(D(900), None, survey_submitted=True))
    assert decision.hours == 0 and "R6" in decision.explain()[0]


def test_r6_check_bundle_needs_enough_viewing() -> None:
    """R6: items bundled into a 1 h course must give at least 3600 s of viewing."""
    assert rules.check_bundle([900, 900, 900, 900], D(1)).met
    short = rules.check_bundle([900, 900, 900, 899], D(1))
    assert not short.met and "1 s short" in short.explanation


# --- R7, R8 ---------------------------------------------------------------------------------------------


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0, tz: dt.tzinfo = TPE) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


def test_r7_choose_credits_cross_year_repeat_credits_both_years() -> None:
    """R7: completed 2025 and again 2026 with cross_year_repeat = true -> credited in both years."""
    terms = CourseTerms(hours=D(2), cross_year_repeat=True)
    choices = rules.choose_credits(terms, [(at(2026, 2, 1), "b"), (at(2025, 5, 1), "a")])
    assert [(c.year, c.credited) for c in choices] == [(2025, True), (2026, True)]


def test_r7_choose_credits_no_repeat_credits_first_year_only() -> None:
    """R7: with cross_year_repeat = false only 2025 is credited, and the 2026 one says why."""
    terms = CourseTerms(hours=D(2), cross_year_repeat=False)
    choices = rules.choose_credits(terms, [(at(2025, 5, 1), "a"), (at(2026, 2, 1), "b")])
    assert [(c.year, c.credited) for c in choices] == [(2025, True), (2026, False)]
    assert "Already credited in 2025" in choices[1].explanation


def test_r7_choose_credits_same_year_twice_credits_once() -> None:
    """R7: at most one credited record per calendar year even when repeats are allowed."""
    terms = CourseTerms(hours=D(2), cross_year_repeat=True)
    choices = rules.choose_credits(terms, [(at(2026, 2, 1), "a"), (at(2026, 9, 1), "b")])
    assert [c.credited for c in choices] == [True, False]


def test_r8_attribute_year_december_31_2359_taipei_is_that_year() -> None:
    """R8: a completion at 31 December 23:59 Taipei time counts toward that year."""
    moment = at(2025, 12, 31, 23, 59)
    assert rules.attribute_year(moment) == 2025
    assert rules.attribute_year(moment.astimezone(UTC)) == 2025


def test_r8_attribute_year_utc_evening_of_dec_31_is_next_year_in_taipei() -> None:
    """R8: 2025-12-31 16:00 UTC is 2026-01-01 00:00 in Taipei and counts toward 2026."""
    assert rules.attribute_year(dt.datetime(2025, 12, 31, 16, 0, tzinfo=UTC)) == 2026
    assert rules.attribute_year(dt.datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC)) == 2025


def test_r8_choose_credits_outside_class_period_is_zero() -> None:
    """R8: a completion outside the course's class period earns nothing, with the reason."""
    terms = CourseTerms(hours=D(1), class_start=dt.date(2026, 1, 1), class_end=dt.date(2026, 12, 31))
    inside_last_minute = at(2026, 12, 31, 23, 59)
    after = at(2027, 1, 1, 0, 0)
    choices = rules.choose_credits(terms, [(inside_last_minute, "a"), (after, "b")])
    assert [c.credited for c in choices] == [True, False]
    assert "after the class period ended" in choices[1].explanation


def test_r8_taipei_date_refuses_naive_datetimes() -> None:
    """R8: a completion time without a time zone is refused."""
    with pytest.raises(RuleError):
        rules.attribute_year(dt.datetime(2026, 1, 1))


# --- R9, R10, R11 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("digital", "physical", "nature"), [(2, 0, 1), (0, 2, 2), (1, 1, 3), ("0.5", "0", 1)])
def test_r9_learning_nature_derived_from_hours(digital: int, physical: int, nature: int) -> None:
    """R9: 學習性質 is 1 digital only, 2 physical only, 3 both."""
    assert rules.learning_nature(D(digital), D(physical)) == nature


def test_r9_learning_nature_refuses_zero_hours() -> None:
    """R9: a row with no hours has no 學習性質 and is never uploaded."""
    with pytest.raises(RuleError):
        rules.learning_nature(D(0), D(0))


def test_r9_roc_date_document_example() -> None:
    """R9: 2026-03-05 -> 115-03-05; times are HH:MM:SS."""
    assert rules.roc_date(dt.date(2026, 3, 5)) == "115-03-05"
    assert rules.roc_date(dt.date(1912, 1, 1)) == "001-01-01"
    assert rules.clock_time(dt.time(9, 5, 7)) == "09:05:07"


def test_r10_split_segments_parent_keeps_remainder() -> None:
    """R10: 1 h to 386 and 3 h to 202 on a 4 h course: one row per segment, sum = total."""
    rows = rules.split_segments("202", D(4), D(0), [Segment("386", D(1), D(0))])
    assert [(r.code, r.hours) for r in rows] == [("202", 3), ("386", 1)]
    assert sum(r.hours for r in rows) == 4


def test_r10_split_segments_no_remainder_no_parent_row() -> None:
    """R10: segments covering every hour leave no parent row."""
    rows = rules.split_segments("202", D(2), D(0), [Segment("386", D(1), D(0)), Segment("337", D(1), D(0))])
    assert [r.code for r in rows] == ["386", "337"]


def test_r10_split_segments_more_than_total_refused() -> None:
    """R10: segments claiming more hours than the course are refused with the figures."""
    with pytest.raises(RuleError, match="more than the course"):
        rules.split_segments("202", D(2), D(0), [Segment("386", D(3), D(0))])


def test_r11_is_environmental_codes_337_to_345() -> None:
    """R11: 337-345 go to the 環教 file too; 336 and 346 do not."""
    assert all(rules.is_environmental(str(c)) for c in range(337, 346))
    assert not rules.is_environmental("336") and not rules.is_environmental("346")


# --- R12 ------------------------------------------------------------------------------------------------


def test_r12_check_mooc_application_day_14_accepted_day_15_rejected() -> None:
    """R12: published 2026-03-01, applied 2026-03-15 -> accepted; 2026-03-16 -> rejected."""
    ok = rules.check_mooc_application(dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    late = rules.check_mooc_application(dt.date(2026, 3, 1), dt.date(2026, 3, 16))
    assert ok.accepted and ok.days_after == 14
    assert not late.accepted and "15 days" in late.explanation


def test_r12_check_mooc_application_upload_due_four_working_days() -> None:
    """R12: upload within 4 working days of acceptance, skipping weekends and holidays."""
    decision = rules.check_mooc_application(dt.date(2026, 3, 1), dt.date(2026, 3, 13))  # a Friday
    assert decision.upload_due == dt.date(2026, 3, 19)
    with_holiday = rules.check_mooc_application(dt.date(2026, 3, 1), dt.date(2026, 3, 13), holidays=[dt.date(2026, 3, 16)])
    assert with_holiday.upload_due == dt.date(2026, 3, 20)


def test_r12_check_mooc_application_uses_taipei_dates() -> None:
    """R12: datetimes are compared as Taipei calendar dates."""
    published = dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2026-03-02 00:30 in Taipei
    assert rules.check_mooc_application(published, dt.date(2026, 3, 16)).accepted


# --- R13, R14 -------------------------------------------------------------------------------------------


def test_r13_check_foreign_hours_acceptable() -> None:
    """R13: 20 whole hours within 39 h of effort with enforced viewing are acceptable."""
    assert rules.check_foreign_hours(D(20), D(39), viewing_enforced=True) == []


@pytest.mark.parametrize(("hours", "effort", "enforced", "fragment"), [
    ("1.5", "10", True, "whole number"),
    ("12", "10", True, "exceed the provider"),
    ("2", "10", False, "reading-time"),
    ("21", "40", True, "cap of 20"),
])
def test_r13_check_foreign_hours_problems(hours: str, effort: str, enforced: bool, fragment: str) -> None:
    """R13: fractional, above effort, unenforced or above-cap hours are refused with a reason."""
    problems = rules.check_foreign_hours(D(hours), D(effort), viewing_enforced=enforced)
    assert any(fragment in p for p in problems)


def test_r14_parse_hours_keeps_one_decimal_without_rounding() -> None:
    """R14: hours keep one decimal place; more decimals are refused, never rounded."""
    assert rules.parse_hours("1.5") == D("1.5")
    assert rules.parse_hours(2) == D("2.0")
    with pytest.raises(RuleError, match="one decimal"):
        rules.parse_hours("1.25")
    with pytest.raises(RuleError):
        rules.parse_hours("-1")
    with pytest.raises(RuleError):
        rules.parse_hours("abc")


def test_r14_sum_hours_is_exact() -> None:
    """R14: a year's sum is exact: ten rows of 0.1 h make exactly 1 h."""
    assert rules.sum_hours([D("0.1")] * 10) == D(1)
    assert rules.format_hours(D("1.0")) == "1" and rules.format_hours(D("1.5")) == "1.5"


# --- R15 ------------------------------------------------------------------------------------------------


def test_r15_deadline_warning_before_cutoff_flags_shortfall() -> None:
    """R15: a permanent person short on 337 is flagged before 11-30, with 4 working days of upload latency."""
    result = check_compliance(2026, lines({**R1_EXAMPLE, "337": 3}))
    warning = rules.deadline_warning(result, EY_DEFAULT, dt.date(2026, 10, 1))
    assert warning is not None
    assert warning.cutoff == dt.date(2026, 11, 30)
    assert warning.last_completion_day == dt.date(2026, 11, 24)  # 11-30 is a Monday
    assert "環境教育" in warning.explanation and "short by 1 h" in warning.explanation


def test_r15_deadline_warning_non_permanent_cutoff_october_31() -> None:
    """R15: non-permanent staff are counted up to 10-31."""
    result = check_compliance(2026, [], category=StaffCategory.NON_PERMANENT)
    warning = rules.deadline_warning(result, EY_DEFAULT, dt.date(2026, 10, 1))
    assert warning is not None and warning.cutoff == dt.date(2026, 10, 31)
    assert rules.deadline_warning(result, EY_DEFAULT, dt.date(2026, 11, 1)) is None


def test_r15_deadline_warning_compliant_person_not_flagged() -> None:
    """R15: a compliant person is not flagged."""
    result = check_compliance(2026, lines(R1_EXAMPLE))
    assert rules.deadline_warning(result, EY_DEFAULT, dt.date(2026, 10, 1)) is None


def test_r2_profile_book_from_configuration_file(tmp_path: object) -> None:
    """R2: CERTIFICATION_PROFILES (a JSON file) layers agency profiles on the EY default, per year."""
    import json
    from pathlib import Path

    import lti_tool
    from lrs.certification import settings as cert_settings
    from lrs.db import get_db
    from tests.conftest import app_config

    folder = Path(str(tmp_path))
    path = folder / "profiles.json"
    path.write_text(json.dumps([{"agency": "379680000A", "valid_from": 2025,
                                 "requirements": [{"key": "total", "label": "業務相關", "minimum": 30}]}]), encoding="utf-8")
    app = lti_tool.create_app(app_config(f"sqlite:///{folder / 'x.db'}", folder, CERTIFICATION_PROFILES=str(path)))
    book = cert_settings.profile_book(app)
    get_db(app).dispose()
    assert next(r for r in book.resolve("379680000A", 2026).requirements if r.key == "total").minimum == 30
    assert book.resolve("379680000A", 2024) is EY_DEFAULT
    assert book.resolve("360000000G", 2026) is EY_DEFAULT


def test_r15_deadline_warning_after_last_safe_day_says_upload_at_once() -> None:
    """R15: between the last safe completion day and the cut-off, the warning says to complete and upload at once."""
    from lrs.certification.explain_i18n import to_chinese

    result = check_compliance(2026, lines({**R1_EXAMPLE, "337": 3}))
    warning = rules.deadline_warning(result, EY_DEFAULT, dt.date(2026, 11, 28))
    assert warning is not None and warning.days_left < 0
    assert "has passed: complete and upload at once" in warning.explanation
    assert "請立即完成課程並上傳" in to_chinese(warning.explanation)
