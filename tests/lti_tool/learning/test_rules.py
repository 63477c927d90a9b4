"""Test the crediting rule R4 and heartbeat time-on-task accounting (domain/certification.md section 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_tool.learning.rules import (
    BeatOutcome,
    CourseTerms,
    HeartbeatPolicy,
    LearnerProgress,
    TimerState,
    account_heartbeat,
    claim_timer,
    completion,
    iso_duration,
    score_percent,
    survey_open,
)

T0 = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)
POLICY = HeartbeatPolicy(interval_seconds=30, grace_seconds=15, min_interval_seconds=10)


def test_completion_rule_r4_example_credits_two_hours() -> None:
    """R4 example: H=2, P=60, readSec=7200, score=60, survey → 2 h."""
    status = completion(CourseTerms(20, True, 60), LearnerProgress(7200, 60, True))
    assert status.complete
    assert status.credited_tenths == 20


def test_completion_rule_r4_one_second_short_credits_nothing() -> None:
    """R4 example: the same with readSec=7199 → 0 (no partial credit)."""
    status = completion(CourseTerms(20, True, 60), LearnerProgress(7199, 60, True))
    assert not status.complete
    assert not status.reading_met
    assert status.remaining_seconds == 1
    assert status.credited_tenths == 0


@pytest.mark.parametrize(
    ("progress", "missing"),
    [
        # An unpassed test also keeps the survey from counting (R4).
        (LearnerProgress(7200, 59.9, True), ["test", "survey"]),
        (LearnerProgress(7200, None, True), ["test", "survey"]),
        (LearnerProgress(7200, 80, False), ["survey"]),
        (LearnerProgress(0, 100, True), ["reading"]),
    ],
)
def test_completion_rule_r4_any_missing_condition_credits_nothing(progress: LearnerProgress, missing: list[str]) -> None:
    """R4: credited = H only if all three conditions hold, otherwise 0."""
    status = completion(CourseTerms(20, True, 60), progress)
    assert status.credited_tenths == 0
    assert not status.complete
    met = {"reading": status.reading_met, "test": status.test_met, "survey": status.survey_met}
    assert [name for name, ok in met.items() if not ok] == missing


def test_completion_rule_r4_survey_before_pass_does_not_count() -> None:
    """R4: a survey submitted before the test is passed does not satisfy the condition until the test is passed."""
    terms = CourseTerms(10, True, 80)
    assert not completion(terms, LearnerProgress(3600, 70, True)).survey_met
    assert not survey_open(terms, 70)
    assert completion(terms, LearnerProgress(3600, 80, True)).survey_met
    assert survey_open(terms, 80)


def test_completion_rule_r4_score_exactly_at_pass_mark_passes() -> None:
    """R4/R5: best_score ≥ P passes, so a score equal to the pass mark passes."""
    assert completion(CourseTerms(10, True, 80), LearnerProgress(3600, 80, True)).complete


def test_completion_rule_r5_missing_pass_mark_defaults_to_sixty() -> None:
    """R5: a course with a test and no declared pass mark is held to 60."""
    terms = CourseTerms(10, True, None)
    assert terms.effective_pass_mark == 60
    assert not completion(terms, LearnerProgress(3600, 59, True)).test_met
    assert completion(terms, LearnerProgress(3600, 60, True)).test_met


def test_completion_rule_r4_course_without_test_needs_reading_and_survey() -> None:
    """R4: with no test, the test condition holds and the survey counts at once."""
    terms = CourseTerms(10, False, None)
    assert terms.effective_pass_mark is None
    assert completion(terms, LearnerProgress(3600, None, True)).credited_tenths == 10
    assert completion(terms, LearnerProgress(3600, None, False)).credited_tenths == 0


def test_completion_rule_survey_not_required_is_met() -> None:
    """A course that asks no survey has its survey condition met."""
    assert completion(CourseTerms(10, True, 60, survey_required=False), LearnerProgress(3600, 60, False)).complete


def test_completion_rule_r6_zero_hour_course_completes_but_credits_nothing() -> None:
    """R6: a 0-hour item is tracked (it completes) but credits 0 h."""
    status = completion(CourseTerms(0, True, 60), LearnerProgress(0, 100, True))
    assert status.complete
    assert status.credited_tenths == 0
    assert status.required_seconds == 0


def test_completion_rule_decimal_hours_need_exact_seconds() -> None:
    """R14: 1.5 h needs 5400 s of reading; the credit is 1.5 h, unrounded."""
    terms = CourseTerms(15, True, 60)
    assert terms.required_seconds == 5400
    assert completion(terms, LearnerProgress(5400, 60, True)).credited_tenths == 15
    assert completion(terms, LearnerProgress(5399, 60, True)).credited_tenths == 0


@given(
    st.integers(0, 200),
    st.integers(0, 100_000),
    st.one_of(st.none(), st.floats(0, 100)),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 100)),
    st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_completion_rule_r4_is_all_or_nothing(
    tenths: int, read: int, score: float | None, survey: bool, mark: int | None, has_test: bool
) -> None:
    """R4: the credit is exactly H or exactly 0, and H exactly when all three conditions hold."""
    status = completion(CourseTerms(tenths, has_test, mark), LearnerProgress(read, score, survey))
    assert status.credited_tenths in {0, tenths}
    assert status.complete == (status.reading_met and status.test_met and status.survey_met)
    if tenths:
        assert (status.credited_tenths == tenths) == status.complete


def test_score_percent_rounds_and_refuses_impossible_counts() -> None:
    """A score is correct/total as a percentage with one decimal place."""
    assert score_percent(2, 3) == 66.7
    assert score_percent(5, 5) == 100.0
    with pytest.raises(ValueError, match="at least one question"):
        score_percent(0, 0)
    with pytest.raises(ValueError, match="between 0"):
        score_percent(4, 3)


def _state() -> TimerState:
    return claim_timer(TimerState(None, 0, None, 0), "tab-a", T0)


def _beat(state: TimerState, seq: int, seconds: float, tab: str = "tab-a", visible: bool = True):  # type: ignore[no-untyped-def]
    return account_heartbeat(state, tab, seq, visible, T0 + dt.timedelta(seconds=seconds), POLICY)


def test_heartbeat_regular_beats_credit_elapsed_time() -> None:
    """Beats at the interval credit the time elapsed since the page opened, measured by the server."""
    state = _state()
    for seq in range(1, 5):
        result = _beat(state, seq, 30 * seq)
        assert result.outcome is BeatOutcome.COUNTED
        assert result.credited_seconds == 30
        state = result.state
    assert state.read_seconds == 120


def test_heartbeat_replayed_sequence_counts_nothing() -> None:
    """A beat whose sequence number is not above the last one is a replay and changes nothing."""
    state = _beat(_state(), 1, 30).state
    replay = _beat(state, 1, 60)
    assert replay.outcome is BeatOutcome.REPLAYED
    assert replay.credited_seconds == 0
    assert replay.state == state
    assert _beat(state, 0, 60).outcome is BeatOutcome.REPLAYED


def test_heartbeat_too_fast_counts_nothing_and_keeps_the_clock() -> None:
    """Beats sooner than the minimum interval count nothing; the next regular beat credits the true time."""
    state = _beat(_state(), 1, 30).state
    fast = [_beat(state, 2, 31), _beat(state, 2, 35)]
    assert all(r.outcome is BeatOutcome.TOO_FAST and r.credited_seconds == 0 for r in fast)
    state = fast[0].state
    for seq in range(3, 50):
        state = _beat(state, seq, 32).state
    regular = _beat(state, 50, 60)
    assert regular.outcome is BeatOutcome.COUNTED
    assert regular.state.read_seconds == 60


def test_heartbeat_sleeping_laptop_gap_counts_nothing() -> None:
    """A gap longer than interval + grace is not counted; the clock restarts at that beat."""
    state = _beat(_state(), 1, 30).state
    woke = _beat(state, 2, 30 + 3600)
    assert woke.outcome is BeatOutcome.STARTED
    assert woke.credited_seconds == 0
    after = _beat(woke.state, 3, 30 + 3600 + 30)
    assert after.state.read_seconds == 60


def test_heartbeat_gap_within_grace_is_capped_at_interval() -> None:
    """A late beat within the grace credits at most one interval."""
    result = _beat(_state(), 1, 44)
    assert result.outcome is BeatOutcome.COUNTED
    assert result.credited_seconds == 30


def test_heartbeat_second_tab_takes_the_timer_and_first_tab_stops_counting() -> None:
    """One active timer per enrollment: the newest tab holds it, beats of the older tab count nothing."""
    state = _beat(_state(), 1, 30).state
    state = claim_timer(state, "tab-b", T0 + dt.timedelta(seconds=40))
    old = _beat(state, 2, 60, tab="tab-a")
    assert old.outcome is BeatOutcome.SUPERSEDED
    assert old.credited_seconds == 0
    new = _beat(state, 1, 70, tab="tab-b")
    assert new.outcome is BeatOutcome.COUNTED
    assert new.state.read_seconds == 60


def test_heartbeat_hidden_page_pauses_the_clock() -> None:
    """A beat from a hidden page counts nothing and the next visible beat restarts the clock."""
    state = _beat(_state(), 1, 30).state
    hidden = _beat(state, 2, 60, visible=False)
    assert hidden.outcome is BeatOutcome.HIDDEN
    restarted = _beat(hidden.state, 3, 90)
    assert restarted.outcome is BeatOutcome.STARTED
    assert _beat(restarted.state, 4, 120).state.read_seconds == 60


@given(st.lists(st.tuples(st.sampled_from(["tab-a", "tab-b"]), st.integers(-2, 60), st.floats(0, 120), st.booleans()), max_size=80))
@settings(max_examples=200, deadline=None)
def test_heartbeat_never_credits_more_than_wall_clock(beats: list[tuple[str, int, float, bool]]) -> None:
    """Whatever beats arrive (tabs, sequence numbers, timing, visibility), credited time ≤ elapsed time."""
    state = _state()
    now = T0
    for tab, seq, gap, visible in beats:
        now += dt.timedelta(seconds=gap)
        if seq == -2:
            state = claim_timer(state, tab, now)
            continue
        state = account_heartbeat(state, tab, seq, visible, now, POLICY).state
    assert state.read_seconds <= (now - T0).total_seconds()


@pytest.mark.parametrize(("seconds", "text"), [(0, "PT0S"), (59, "PT59S"), (3600, "PT1H"), (3723, "PT1H2M3S"), (120, "PT2M")])
def test_iso_duration_formats_xapi_durations(seconds: int, text: str) -> None:
    """Per xAPI 1.0.3 Data 4.6: durations are ISO 8601 durations."""
    assert iso_duration(seconds) == text


def test_heartbeat_fractions_of_seconds_carry_over() -> None:
    """Beats arriving a little early lose no time: fractions carry to the next beat."""
    state = _state()
    total = 0.0
    for seq in range(1, 11):
        total += 29.5
        state = account_heartbeat(state, "tab-a", seq, True, T0 + dt.timedelta(seconds=total), POLICY).state
    assert state.read_seconds == 295
