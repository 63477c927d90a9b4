"""Read completion evidence from the LRS: the one module that knows the statement table's shape.

If the storage changes (lrs/storage/models.py), only this module changes. Everything else in
certification sees `AttemptEvidence` values.

## The contract, for the learner player (lti_tool/learning) and any other xAPI source

Statements read: never voided ones (`lrs_statement.voided`), whose

- **actor** is an Agent identified by `account` {homePage: the platform issuer, name: the LTI `sub`};
  it is mapped to a person by certification staff, the LTI custom parameter or the learner
  (`certification_actor`); statements of unmapped actors are reported, not credited;
- **object** is the Activity whose id is the registry entry's `activity_id`, by default the catalog
  course IRI `{PUBLIC_BASE_URL}/catalog/courses/{course_code}` (statements about parts of the course,
  such as quiz questions with the course as `parent`, are not read);
- **verb** is one of (ADL, `http://adlnet.gov/expapi/verbs/...`):
  - `completed`: the tool emits it once R4's three conditions hold. `result.duration` is the
    *cumulative* server-measured reading time of the enrollment (ISO 8601, e.g. `PT2H`), used for R4's
    reading condition; `result.score` is optional. Its presence proves the survey was submitted
    (the tool only completes after the survey), unless `result.extensions[.../survey-submitted]` is
    `false`. A `completed` without `result.duration` is reported as lacking evidence for R4.
  - `passed` / `failed`: a quiz attempt; `result.score` gives the score: `raw` with `min`/`max`
    (normalised to 0-100) when `max` is present, else `scaled` x 100. The best score counts (R4).
  - `progressed`: `result.duration` is the cumulative reading time so far (also cumulative).
  - `launched` / `initialized`: the earliest one's `timestamp` is the 實際上課起始 of the upload row.
  (`terminated` durations are per session, not cumulative, and are not read.)
- **context.registration** groups statements into attempts (one per enrollment; none: one attempt);
- **context.extensions** `.../xapi/extensions/course-code` (any base URL) must, when present, name the
  same course as the object; a mismatch is reported and the statement ignored;
- **timestamp** is when it happened (R8 attributes the year in Asia/Taipei); `stored` if absent.

A survey extension `.../xapi/extensions/survey-submitted` (boolean, on any read statement's result or
context) overrides the inference from `completed`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lrs.db import driver_rows, utc_from_driver
from lrs.storage.models import Statement

ADL = "http://adlnet.gov/expapi/verbs/"
VERB_COMPLETED = ADL + "completed"
VERB_PASSED = ADL + "passed"
VERB_FAILED = ADL + "failed"
VERB_PROGRESSED = ADL + "progressed"
VERB_LAUNCHED = ADL + "launched"
VERB_INITIALIZED = ADL + "initialized"
VERB_VOIDED = ADL + "voided"
READ_VERBS = (VERB_COMPLETED, VERB_PASSED, VERB_FAILED, VERB_PROGRESSED, VERB_LAUNCHED, VERB_INITIALIZED)
EXT_COURSE_CODE = "/xapi/extensions/course-code"
EXT_SURVEY = "/xapi/extensions/survey-submitted"
_DURATION_RE = re.compile(
    r"^P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@functools.lru_cache(maxsize=65536)
def duration_seconds(text: str) -> Decimal | None:
    """Parse an ISO 8601 duration (xAPI result.duration) into seconds; None when malformed or with months/years."""
    match = _DURATION_RE.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        return None
    parts = match.groupdict()
    if parts["y"] or parts["mo"]:
        return None  # a month or year has no fixed length in seconds
    scale = {"w": 604800, "d": 86400, "h": 3600, "mi": 60, "s": 1}
    return sum((Decimal(parts[k]) * v for k, v in scale.items() if parts[k]), Decimal(0))


def score_percent(score: Any) -> Decimal | None:
    """Return a result.score as 0-100: raw within min..max when max is given, else scaled x 100."""
    if not isinstance(score, dict):
        return None
    key = (score.get("raw"), score.get("min", 0), score.get("max"), score.get("scaled"))
    try:
        return _score_percent(*key)
    except TypeError:  # an unhashable part (a list or object): not cached
        return _score_percent.__wrapped__(*key)


@functools.lru_cache(maxsize=4096, typed=True)  # typed: True, 1 and 1.0 are different scores here
def _score_percent(raw: Any, low: Any, high: Any, scaled: Any) -> Decimal | None:
    try:
        if raw is not None and high is not None and Decimal(str(high)) > Decimal(str(low)):
            return (Decimal(str(raw)) - Decimal(str(low))) / (Decimal(str(high)) - Decimal(str(low))) * 100
        if scaled is not None:
            return Decimal(str(scaled)) * 100
    except (InvalidOperation, TypeError, ValueError):
        return None
    return None


def _extension(container: Any, suffix: str) -> Any:
    if not isinstance(container, dict):
        return None
    extensions = container.get("extensions")
    if not isinstance(extensions, dict):
        return None
    for key, value in extensions.items():
        if isinstance(key, str) and key.endswith(suffix):
            return value
    return None


@dataclass(slots=True)
class AttemptEvidence:
    """What one actor's statements about one course, in one registration, say (R4 inputs)."""

    actor_key: str
    activity_id: str
    registration: str
    statement_ids: list[str] = field(default_factory=list)
    read_seconds: Decimal = Decimal(0)
    scores: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)
    survey: bool | None = None
    survey_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def best_score(self) -> Decimal | None:
        """Return the best score of the attempt."""
        if not self.scores:
            return None
        return self.scores[0][1] if len(self.scores) == 1 else max([s for _, s in self.scores])

    def first_pass(self, pass_mark: Decimal | None) -> dt.datetime | None:
        """Return when the score first reached the pass mark."""
        if pass_mark is None:
            return None
        return min((at for at, s in self.scores if s >= pass_mark), default=None)

    def survey_submitted(self) -> bool:
        """Tell whether the survey is proven: an explicit flag, else a completion statement."""
        if self.survey is not None:
            return self.survey
        return self.completed_at is not None

    def add(self, statement_id: str, verb: str, when: dt.datetime, body: dict[str, Any]) -> None:
        """Fold one statement into the attempt."""
        self.statement_ids.append(statement_id)
        result = body.get("result") if isinstance(body.get("result"), dict) else {}
        assert isinstance(result, dict)
        if self.started_at is None or when < self.started_at:
            self.started_at = when
        survey_flag = _extension(result, EXT_SURVEY)
        if survey_flag is None:
            survey_flag = _extension(body.get("context"), EXT_SURVEY)
        if isinstance(survey_flag, bool):
            self.survey = survey_flag if self.survey is None else (self.survey or survey_flag)
            if survey_flag and (self.survey_at is None or when < self.survey_at):
                self.survey_at = when
        if verb in (VERB_COMPLETED, VERB_PROGRESSED):
            seconds = duration_seconds(str(result.get("duration", ""))) if result.get("duration") is not None else None
            if seconds is not None:
                self.read_seconds = max(self.read_seconds, seconds)
            elif verb == VERB_COMPLETED:
                self.problems.append(f"Statement {statement_id} (completed) has no valid result.duration, so the reading time cannot be checked.")
        if verb == VERB_COMPLETED:
            if result.get("completion") is False:
                self.problems.append(f"Statement {statement_id} says completed but result.completion is false; not counted as a completion.")
            elif self.completed_at is None or when < self.completed_at:
                self.completed_at = when
                if self.survey is None:
                    self.survey_at = when
        if verb in (VERB_PASSED, VERB_FAILED, VERB_COMPLETED) and "score" in result:
            score = score_percent(result.get("score"))
            if score is None:
                self.problems.append(f"Statement {statement_id} has a result.score without a usable raw/max or scaled value.")
            else:
                self.scores.append((when, score))
        elif verb == VERB_PASSED:
            self.problems.append(f"Statement {statement_id} (passed) has no result.score, so the pass mark cannot be checked.")


def _course_code_mismatch(body: dict[str, Any], expected_code: str | None) -> str | None:
    if expected_code is None:
        return None
    code = _extension(body.get("context"), EXT_COURSE_CODE)
    if code is not None and str(code) != expected_code:
        return str(code)
    return None


# The parts of a statement that R4 reads, extracted by the database (SQLite's JSON1, PostgreSQL's json
# operators), so Python parses a hundred bytes per statement instead of the whole statement.
_EVIDENCE_COLUMNS = {
    "sqlite": "json_extract(body, '$.result'), json_extract(body, '$.context.extensions')",
    "postgresql": "CAST(body AS json) ->> 'result', CAST(body AS json) #>> '{context,extensions}'",
}


# One statement as the ledger reads it: id, actor, activity, verb, registration, time, {result, context.extensions}.
Evidence = tuple[str, str, str, str, str, dt.datetime, dict[str, Any]]


def read_attempts(session: Session, actor_keys: Sequence[str], activity_ids: Collection[str],
                  course_codes: dict[str, str]) -> tuple[dict[tuple[str, str], list[AttemptEvidence]], list[str]]:
    """Group these actors' statements about these activities into attempts; return them with the problems found.

    Read: the unvoided statements with a verb the ledger reads, in stored order, grouped by (actor,
    activity) and registration.
    """
    return _gather(_read(session, actor_keys, activity_ids), course_codes)


def _read(session: Session, actor_keys: Sequence[str], activity_ids: Collection[str]) -> Iterator[Evidence]:
    if not actor_keys:
        return
    # Fixed SQL on the driver's cursor: a batch is tens of thousands of rows, and SQLAlchemy's result
    # rows cost more than the rest of the read. Only constant text is written into it; every value is bound.
    # The timestamp comes as the driver gives it (SQLite: text, parsed here in C; PostgreSQL: an aware
    # datetime). Rows are put in stored order here rather than by the database, which would sort whole
    # rows on disk.
    sql = (
        "SELECT pk, statement_id, actor_key, object_activity_id, verb_id, registration, timestamp, "  # noqa: S608
        f"{_EVIDENCE_COLUMNS[session.get_bind().dialect.name]} FROM {Statement.__tablename__} "
        f"WHERE actor_key IN ({', '.join('?' * len(actor_keys))}) AND verb_id IN ({', '.join('?' * len(READ_VERBS))}) "
        "AND voided = ?"
    )
    rows = [row for row in driver_rows(session, sql, (*actor_keys, *READ_VERBS, False)) if row[3] in activity_ids]
    rows.sort(key=_first)
    loads = orjson.loads
    for _pk, statement_id, actor_key, activity_id, verb, registration, stamp, result, extensions in rows:
        when = utc_from_driver(stamp)
        assert when is not None  # lrs_statement.timestamp is NOT NULL
        body: dict[str, Any] = {}
        if result is not None:
            body["result"] = loads(result)
        if extensions is not None:
            body["context"] = {"extensions": loads(extensions)}
        yield statement_id, actor_key, activity_id, verb, registration or "", when, body


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def _gather(rows: Iterator[Evidence], course_codes: dict[str, str]) -> tuple[dict[tuple[str, str], list[AttemptEvidence]], list[str]]:
    attempts: dict[tuple[str, str, str], AttemptEvidence] = {}
    problems: list[str] = []
    for statement_id, actor_key, activity_id, verb, registration, when, body in rows:
        if "context" in body:
            mismatch = _course_code_mismatch(body, course_codes.get(activity_id))
            if mismatch is not None:
                problems.append(f"Statement {statement_id} names course code {mismatch!r} but its object is {activity_id}; ignored.")
                continue
        key = (actor_key, activity_id, registration)
        attempt = attempts.get(key)
        if attempt is None:
            attempt = attempts[key] = AttemptEvidence(actor_key, activity_id, registration)
        attempt.add(statement_id, verb, when, body)
    grouped: dict[tuple[str, str], list[AttemptEvidence]] = {}
    for (actor, activity, _reg), attempt in attempts.items():
        grouped.setdefault((actor, activity), []).append(attempt)
    return grouped, problems


def voided_targets(statements: Sequence[dict[str, Any]]) -> list[str]:
    """Return the ids voided by a batch of just-stored statements (xAPI Data 2.3.2)."""
    targets = []
    for stmt in statements:
        verb = stmt.get("verb") or {}
        obj = stmt.get("object") or {}
        if verb.get("id") == VERB_VOIDED and obj.get("objectType") == "StatementRef" and obj.get("id"):
            targets.append(str(obj["id"]).lower())
    return targets


def statements_subjects(session: Session, statement_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Return (actor_key, activity_id) of stored statements, e.g. the targets of a voiding."""
    if not statement_ids:
        return []
    rows = session.execute(
        select(Statement.actor_key, Statement.object_activity_id).where(Statement.statement_id.in_(statement_ids))
    )
    return [(r.actor_key, r.object_activity_id) for r in rows if r.actor_key and r.object_activity_id]


def batch_subjects(statements: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return (actor_key, activity_id) of just-stored statements whose verb the ledger reads."""
    from lrs.xapi.statements import agent_key

    found = []
    for stmt in statements:
        verb = (stmt.get("verb") or {}).get("id")
        obj = stmt.get("object") or {}
        if verb in READ_VERBS and obj.get("objectType", "Activity") == "Activity" and isinstance(stmt.get("actor"), dict):
            key = agent_key(stmt["actor"])
            if key and obj.get("id"):
                found.append((key, str(obj["id"])))
    return found


def explore(session: Session, *, actor_keys: Sequence[str] | Select[Any] | None = None, activity_id: str | None = None,
            verb: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
            before_pk: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Return statements for the staff explorer, newest first, keyset-paged by stored order."""
    query = select(Statement.pk, Statement.statement_id, Statement.actor_key, Statement.verb_id, Statement.object_activity_id,
                   Statement.timestamp, Statement.stored, Statement.voided, Statement.body)
    if actor_keys is not None:
        query = query.where(Statement.actor_key.in_(actor_keys))
    if activity_id:
        query = query.where(Statement.object_activity_id == activity_id)
    if verb:
        query = query.where(Statement.verb_id == verb)
    if since:
        query = query.where(Statement.timestamp >= since)
    if until:
        query = query.where(Statement.timestamp < until)
    if before_pk:
        query = query.where(Statement.pk < before_pk)
    query = query.order_by(Statement.pk.desc()).limit(limit)
    out = []
    for row in session.execute(query):
        body = orjson.loads(row.body)
        result = body.get("result") if isinstance(body.get("result"), dict) else {}
        out.append({
            "pk": row.pk, "id": row.statement_id, "actor_key": row.actor_key, "verb": row.verb_id,
            "object": row.object_activity_id, "timestamp": row.timestamp.isoformat(), "stored": row.stored.isoformat(),
            "voided": row.voided, "registration": (body.get("context") or {}).get("registration"),
            "result": {k: result.get(k) for k in ("score", "success", "completion", "duration") if k in result},
        })
    return out
