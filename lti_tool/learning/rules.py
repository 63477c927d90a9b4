"""Apply the learning rules to plain values: the crediting rule R4 and heartbeat time on task.

Pure functions only (no Flask, no SQLAlchemy). Rules cited as Rn are those of
`domain/certification.md` section 6. Time on task is measured on the server only: a heartbeat
carries no client time, and the server credits the wall-clock time elapsed since the enrollment's
previous counted heartbeat, capped at the heartbeat interval, so that whatever a browser does
(several tabs, a sleeping laptop, beats replayed or sent too fast) the credited time never
exceeds the time that really passed while a player page was open and beating.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

# R5: a course with a test that declares no pass mark is held to 60.
DEFAULT_PASS_MARK = 60
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class CourseTerms:
    """What a course asks of a learner (R4, R5, R6): certified hours in tenths, test, survey."""

    hours_tenths: int
    has_test: bool = True
    pass_mark: int | None = None
    survey_required: bool = True

    @property
    def required_seconds(self) -> int:
        """Return the reading time R4 requires: certified hours × 3600 s."""
        return self.hours_tenths * SECONDS_PER_HOUR // 10

    @property
    def effective_pass_mark(self) -> int | None:
        """Return the pass mark in force, 60 when a test declares none (R5), None without a test."""
        if not self.has_test:
            return None
        return DEFAULT_PASS_MARK if self.pass_mark is None else self.pass_mark


@dataclass(frozen=True)
class LearnerProgress:
    """What a learner has done so far: server-measured reading, best quiz score, survey."""

    read_seconds: int = 0
    best_score: float | None = None
    survey_submitted: bool = False


@dataclass(frozen=True)
class CompletionStatus:
    """The three conditions of R4, whether all hold, and the hours credited (tenths)."""

    reading_met: bool
    test_met: bool
    survey_met: bool
    required_seconds: int
    remaining_seconds: int
    credited_tenths: int

    @property
    def complete(self) -> bool:
        """Tell whether every condition holds."""
        return self.reading_met and self.test_met and self.survey_met


def test_passed(terms: CourseTerms, best_score: float | None) -> bool:
    """Tell whether the test condition holds: no test, or a best score at or above the pass mark (R4, R5)."""
    mark = terms.effective_pass_mark
    if mark is None:
        return True
    return best_score is not None and best_score >= mark


def survey_open(terms: CourseTerms, best_score: float | None) -> bool:
    """Tell whether the survey may be taken: only once the test is passed (R4)."""
    return test_passed(terms, best_score)


def completion(terms: CourseTerms, progress: LearnerProgress) -> CompletionStatus:
    """Apply R4: credit the course's hours only when reading, test and survey all hold; never partially.

    A survey submitted before the test is passed does not count until the test is passed. A
    zero-hour course (R6) completes like any other but credits nothing.
    """
    required = terms.required_seconds
    reading = progress.read_seconds >= required
    passed = test_passed(terms, progress.best_score)
    survey = (not terms.survey_required) or (progress.survey_submitted and passed)
    complete = reading and passed and survey
    return CompletionStatus(
        reading_met=reading,
        test_met=passed,
        survey_met=survey,
        required_seconds=required,
        remaining_seconds=max(0, required - progress.read_seconds),
        credited_tenths=terms.hours_tenths if complete else 0,
    )


def score_percent(correct: int, total: int) -> float:
    """Return a quiz score as a percentage rounded to one decimal place."""
    if total <= 0:
        raise ValueError("a quiz needs at least one question")
    if not 0 <= correct <= total:
        raise ValueError("correct answers must be between 0 and the number of questions")
    return round(100.0 * correct / total, 1)


# ---------------------------------------------------------------------------------------------
# Heartbeats


@dataclass(frozen=True)
class HeartbeatPolicy:
    """How heartbeats are counted: the interval pages beat at, the grace allowed, the fastest beat."""

    interval_seconds: int = 30
    grace_seconds: int = 15
    min_interval_seconds: int = 10

    @property
    def max_gap_seconds(self) -> int:
        """Return the longest gap still counted; longer gaps (a sleeping laptop) count nothing."""
        return self.interval_seconds + self.grace_seconds


class BeatOutcome(enum.StrEnum):
    """What became of one heartbeat."""

    COUNTED = "counted"
    STARTED = "started"  # the first beat of a stretch, or the first after a long gap: starts the clock
    TOO_FAST = "too_fast"
    REPLAYED = "replayed"
    SUPERSEDED = "superseded"  # another tab of the same enrollment holds the timer
    HIDDEN = "hidden"  # the page reported it is not visible: the clock pauses


@dataclass(frozen=True)
class TimerState:
    """An enrollment's timer: which tab holds it, that tab's last sequence number, the last counted beat."""

    active_tab: str | None
    last_seq: int
    last_beat_at: dt.datetime | None
    read_seconds: int


@dataclass(frozen=True)
class BeatResult:
    """The outcome of a heartbeat, the seconds it credited and the timer state to store."""

    outcome: BeatOutcome
    credited_seconds: int
    state: TimerState


def claim_timer(state: TimerState, tab: str, now: dt.datetime) -> TimerState:
    """Give the enrollment's one timer to a newly opened player tab; the older tab stops counting."""
    return replace(state, active_tab=tab, last_seq=0, last_beat_at=now)


def account_heartbeat(
    state: TimerState, tab: str, seq: int, visible: bool, now: dt.datetime, policy: HeartbeatPolicy
) -> BeatResult:
    """Count one heartbeat (already authenticated) against the enrollment's timer, at server time `now`.

    - A tab other than the one holding the timer is superseded: it counts nothing.
    - A sequence number not above the last one seen is a replay: it counts nothing, changes nothing.
    - A beat sooner than the minimum interval after the last counted one is too fast: nothing
      counts and the clock is not moved, so the next regular beat still credits the true elapsed time.
    - A gap longer than the interval plus grace (a sleeping laptop, a lost network) counts nothing
      and restarts the clock; otherwise the elapsed time, capped at the interval, is credited.
    - A hidden page pauses the clock.
    """
    if state.active_tab != tab:
        return BeatResult(BeatOutcome.SUPERSEDED, 0, state)
    if seq <= state.last_seq:
        return BeatResult(BeatOutcome.REPLAYED, 0, state)
    if not visible:
        return BeatResult(BeatOutcome.HIDDEN, 0, replace(state, last_seq=seq, last_beat_at=None))
    if state.last_beat_at is None:
        return BeatResult(BeatOutcome.STARTED, 0, replace(state, last_seq=seq, last_beat_at=now))
    elapsed = (now - state.last_beat_at).total_seconds()
    if elapsed < policy.min_interval_seconds:
        return BeatResult(BeatOutcome.TOO_FAST, 0, replace(state, last_seq=seq))
    if elapsed > policy.max_gap_seconds:
        return BeatResult(BeatOutcome.STARTED, 0, replace(state, last_seq=seq, last_beat_at=now))
    if elapsed <= policy.interval_seconds:
        # Credit whole seconds and carry the fraction: the clock moves on by exactly what was credited.
        credited = int(elapsed)
        moved_to = state.last_beat_at + dt.timedelta(seconds=credited)
    else:
        credited = policy.interval_seconds
        moved_to = now
    return BeatResult(
        BeatOutcome.COUNTED,
        credited,
        replace(state, last_seq=seq, last_beat_at=moved_to, read_seconds=state.read_seconds + credited),
    )


def iso_duration(seconds: int) -> str:
    """Format whole seconds as an ISO 8601 duration such as PT1H2M3S (xAPI 1.0.3 4.1.5 `result.duration`)."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or text == "PT":
        text += f"{secs}S"
    return text
