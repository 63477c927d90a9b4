"""Decide certified hours and annual compliance: rules R1-R15 of domain/certification.md §6, as pure functions.

Nothing here touches Flask or SQLAlchemy. Every decision returns its explanation: which condition failed,
which quota is short and by how much, so the ledger, the staff pages and the exports can show it as is.

Hours are `Decimal` with at most one decimal place (R14): never floats, never rounded.
Agency profiles are layered on the Executive Yuan default and versioned by the year they take effect (R1, R2).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")
ZERO = Decimal(0)
ONE_PLACE = Decimal("0.1")
SECONDS_PER_HOUR = 3600
DEFAULT_PASS_MARK = Decimal(60)
MOOC_APPLICATION_DAYS = 14
UPLOAD_WORKING_DAYS = 4
FOREIGN_COURSE_CAP = Decimal(20)
ROC_OFFSET = 1911


def _codes(*spans: tuple[int, int] | int) -> frozenset[str]:
    found: set[str] = set()
    for span in spans:
        if isinstance(span, tuple):
            found.update(str(n) for n in range(span[0], span[1] + 1))
        else:
            found.add(str(span))
    return frozenset(found)


# R1 buckets (§2.4 "Codes that matter for the annual quotas"; the name-to-code mapping is [inf]).
POLICY_CODES = _codes(501)
ENV_CODES = _codes((337, 345))
GENDER_CODES = _codes((386, 413), 516, 517)
DEMOCRACY_CODES = _codes(502, 503, 504, 505, 7)
# R3 資通安全: 522 通識, 523 專業/職能; 521 (資通安全, the parent) counts toward neither.
SECURITY_GENERAL_CODE = "522"
SECURITY_PROFESSIONAL_CODE = "523"


class RuleError(ValueError):
    """A value breaks a certification rule; the message says which and how to fix it."""


# --- R14: hour precision -----------------------------------------------------------------------------------


def parse_hours(value: Decimal | int | str | float, *, what: str = "hours") -> Decimal:
    """Parse hours with at most one decimal place, never rounding (R14)."""
    if isinstance(value, bool):
        raise RuleError(f"{what} must be a number, got {value!r}.")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise RuleError(f"{what} must be a number such as 2 or 1.5, got {value!r}.") from None
    if not number.is_finite():
        raise RuleError(f"{what} must be a finite number, got {value!r}.")
    if number < 0:
        raise RuleError(f"{what} cannot be negative, got {value}.")
    if number != number.quantize(ONE_PLACE):
        raise RuleError(f"{what} may have at most one decimal place (R14), got {value}; declared values are never rounded.")
    return number.quantize(ONE_PLACE)


@functools.lru_cache(maxsize=4096)
def format_hours(value: Decimal) -> str:
    """Write hours as the portal files do: `2`, `1.5` (no trailing `.0`)."""
    text = format(value.quantize(ONE_PLACE), "f")
    return text[:-2] if text.endswith(".0") else text


def sum_hours(values: Iterable[Decimal]) -> Decimal:
    """Sum hours exactly, without rounding (R14)."""
    return sum(values, ZERO)


# --- Annual rules: R1, R2, R3 --------------------------------------------------------------------------------


class StaffCategory(enum.StrEnum):
    """Whether a person is permanent (正式) staff; agencies may set different minimums and cut-offs."""

    PERMANENT = "permanent"
    NON_PERMANENT = "non_permanent"


class SecurityRole(enum.StrEnum):
    """A person's 資通安全 duty under 資通安全責任等級分級辦法 (R3)."""

    GENERAL = "general"  # 一般使用者及主管: 522 >= 3 h a year
    IT = "it"  # other IT staff: 522 >= 3 h a year and 523 >= 3 h over two years
    DEDICATED = "dedicated"  # 資安專職人員: 523 >= 12 h a year
    NONE = "none"  # no 資安 duty recorded (for example a person outside the act's scope)


@dataclass(frozen=True)
class CreditLine:
    """One credited row as the annual rules see it: a category code and its hours."""

    code: str
    hours: Decimal
    digital: Decimal = ZERO
    physical: Decimal = ZERO


def lines(pairs: Mapping[str | int, Decimal | int | str] | Iterable[tuple[str | int, Decimal | int | str]]) -> list[CreditLine]:
    """Build credit lines from `{code: hours}` or `(code, hours)` pairs, all counted as digital."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    out = []
    for code, hours in items:
        value = parse_hours(hours)
        out.append(CreditLine(str(code), value, digital=value))
    return out


class Measure(enum.StrEnum):
    """What a requirement adds up."""

    HOURS = "hours"  # every hour of the matching lines
    DIGITAL = "digital"  # only digital hours of the matching lines


@dataclass(frozen=True)
class Requirement:
    """A minimum number of hours over some lines: the total, a quota bucket or a digital minimum."""

    key: str
    label: str
    minimum: Decimal
    codes: frozenset[str] | None = None  # None: every line in scope
    measure: Measure = Measure.HOURS
    business_only: bool = True  # count only business-related lines (R1); False: every line

    def describe_codes(self) -> str:
        """Describe the codes in a short human form (`337-345`, `501`)."""
        if self.codes is None:
            return "all codes" if not self.business_only else "all business-related codes"
        return compact_codes(self.codes)


def compact_codes(codes: Iterable[str]) -> str:
    """Write codes as sorted ranges: `7, 337-345, 501`."""
    numbers = sorted(int(c) for c in codes if c.isdigit())
    others = sorted(c for c in codes if not c.isdigit())
    parts: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts + others)


@dataclass(frozen=True)
class Profile:
    """The annual requirements of one agency (or the Executive Yuan default) from a given year on.

    `requirements` apply to permanent staff; `non_permanent` replaces requirements by key for others.
    `excluded_groups` are top-level code groups that are not business-related (R1 [policy]).
    Cut-offs are (month, day) of the counting deadline (R15).
    """

    key: str
    name: str
    valid_from: int
    requirements: tuple[Requirement, ...]
    non_permanent: tuple[Requirement, ...] = ()
    excluded_groups: frozenset[str] = frozenset()
    security: bool = True
    cutoff_permanent: tuple[int, int] = (11, 30)
    cutoff_non_permanent: tuple[int, int] = (10, 31)
    parent: str | None = None

    def requirements_for(self, category: StaffCategory) -> tuple[Requirement, ...]:
        """Return the requirements that apply to a staff category, in order."""
        if category is StaffCategory.PERMANENT or not self.non_permanent:
            return self.requirements
        replaced = {req.key: req for req in self.non_permanent}
        merged = [replaced.pop(req.key, req) for req in self.requirements]
        return tuple(merged + list(replaced.values()))

    def cutoff(self, year: int, category: StaffCategory) -> dt.date:
        """Return the counting cut-off date of a year for a staff category (R15)."""
        month, day = self.cutoff_permanent if category is StaffCategory.PERMANENT else self.cutoff_non_permanent
        return dt.date(year, month, day)

    def layer(
        self,
        *,
        key: str,
        name: str,
        valid_from: int,
        requirements: Iterable[Requirement] = (),
        non_permanent: Iterable[Requirement] = (),
        drop: Iterable[str] = (),
        **changes: Any,
    ) -> Profile:
        """Return a profile built on this one: requirements with the same key replace, new ones are added."""
        dropped = set(drop)
        own = {req.key: req for req in requirements}
        merged = [own.pop(req.key, req) for req in self.requirements if req.key not in dropped]
        merged.extend(own.values())
        other = {req.key: req for req in self.non_permanent if req.key not in dropped}
        other.update({req.key: req for req in non_permanent})
        return replace(
            self, key=key, name=name, valid_from=valid_from, requirements=tuple(merged),
            non_permanent=tuple(other.values()), parent=self.key, **changes,
        )


def _req(key: str, label: str, minimum: int | str, codes: frozenset[str] | None = None, **kw: Any) -> Requirement:
    return Requirement(key, label, Decimal(minimum), codes, **kw)


# R1: Executive Yuan default from 106 (2017): 20 h business-related with quotas; no digital minimum (R2).
EY_DEFAULT = Profile(
    key="EY",
    name="行政院 (Executive Yuan) default",
    valid_from=2017,
    requirements=(
        _req("total", "業務相關學習時數 (business-related hours)", 20),
        _req("policy", "當前政府重大政策 (major policy)", 1, POLICY_CODES),
        _req("env", "環境教育 (environmental education)", 4, ENV_CODES),
        _req("gender", "性別主流化 (gender mainstreaming)", 1, GENDER_CODES),
        _req("democracy", "民主治理價值 (democratic governance)", 4, DEMOCRACY_CODES),
    ),
)

# Before 106 (§1.1): 40 h a year with at least 5 h digital and 10 h business-related.
EY_BEFORE_2017 = Profile(
    key="EY",
    name="行政院 (Executive Yuan) rule before 106",
    valid_from=2006,
    requirements=(
        _req("all_hours", "學習時數 (all learning hours)", 40, business_only=False),
        _req("digital", "數位學習時數 (digital hours)", 5, measure=Measure.DIGITAL, business_only=False),
        _req("total", "業務相關學習時數 (business-related hours)", 10),
    ),
    security=False,
)


def ntut_style_profile(agency_code: str, valid_from: int = 2018) -> Profile:
    """Build the stricter NTUT-style profile of §1.2 / R2 for an agency, layered on the EY default."""
    return EY_DEFAULT.layer(
        key=agency_code,
        name="國立臺北科技大學-style agency profile",
        valid_from=valid_from,
        requirements=(
            _req("all_hours", "學習時數 (all learning hours)", 50, business_only=False),
            _req("digital", "數位學習時數 (digital hours)", 10, measure=Measure.DIGITAL, business_only=False),
            _req("total", "業務相關學習時數 (business-related hours)", 30),
            _req("gender", "性別主流化 (gender mainstreaming)", 2, GENDER_CODES),
            _req("integrity", "廉政與服務倫理 (integrity)", 2, _codes(502)),
            _req("human_rights", "人權教育 (human rights)", 2, _codes(503)),
            _req("neutrality", "行政中立 (administrative neutrality)", 2, _codes(7)),
            _req("infosec", "資訊安全 (information security)", 3, _codes(521, 522, 523)),
        ),
        non_permanent=(
            _req("all_hours", "學習時數 (all learning hours)", 30, business_only=False),
            _req("digital", "數位學習時數 (digital hours)", 5, measure=Measure.DIGITAL, business_only=False),
        ),
        drop=("democracy",),
    )


@dataclass(frozen=True)
class ProfileBook:
    """Profiles by agency and year: the EY default versions plus agency profiles layered on them."""

    defaults: tuple[Profile, ...] = (EY_BEFORE_2017, EY_DEFAULT)
    agencies: Mapping[str, tuple[Profile, ...]] = field(default_factory=dict)

    def resolve(self, agency_code: str | None, year: int) -> Profile:
        """Return the profile in force for an agency in a year: its own latest version, else the EY default."""
        for profile in sorted(self.agencies.get(agency_code or "", ()), key=lambda p: -p.valid_from):
            if profile.valid_from <= year:
                return profile
        for profile in sorted(self.defaults, key=lambda p: -p.valid_from):
            if profile.valid_from <= year:
                return profile
        raise RuleError(f"No certification profile covers {year}; the earliest starts in {min(p.valid_from for p in self.defaults)}.")

    def with_agency(self, profile: Profile) -> ProfileBook:
        """Return a book with one more agency profile version."""
        agencies = dict(self.agencies)
        agencies[profile.key] = (*agencies.get(profile.key, ()), profile)
        return ProfileBook(self.defaults, agencies)


def profile_from_dict(data: Mapping[str, Any], book: ProfileBook | None = None) -> Profile:
    """Build an agency profile from configuration JSON, layered on the EY default of its first year."""
    try:
        agency = str(data["agency"]).strip()
        valid_from = int(data["valid_from"])
    except (KeyError, TypeError, ValueError):
        raise RuleError("An agency profile needs `agency` (a 10-character agency code) and `valid_from` (a year).") from None
    base = (book or ProfileBook()).resolve(None, valid_from)

    def parse(items: Iterable[Mapping[str, Any]]) -> list[Requirement]:
        out = []
        for item in items:
            codes = item.get("codes")
            out.append(Requirement(
                key=str(item["key"]), label=str(item.get("label", item["key"])),
                minimum=parse_hours(item["minimum"], what=f"minimum of {item['key']}"),
                codes=frozenset(str(c) for c in codes) if codes is not None else None,
                measure=Measure(item.get("measure", "hours")),
                business_only=bool(item.get("business_only", True)),
            ))
        return out

    try:
        cut_p = tuple(int(x) for x in data.get("cutoff_permanent", base.cutoff_permanent))
        cut_o = tuple(int(x) for x in data.get("cutoff_non_permanent", base.cutoff_non_permanent))
        return base.layer(
            key=agency, name=str(data.get("name", agency)), valid_from=valid_from,
            requirements=parse(data.get("requirements", ())), non_permanent=parse(data.get("non_permanent", ())),
            drop=[str(k) for k in data.get("drop", ())],
            excluded_groups=frozenset(str(g) for g in data.get("excluded_groups", ())),
            cutoff_permanent=(cut_p[0], cut_p[1]), cutoff_non_permanent=(cut_o[0], cut_o[1]),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise RuleError(f"Agency profile {agency} is malformed ({err}); see the requirements format in rules.py.") from None


@dataclass(frozen=True)
class QuotaOutcome:
    """How one requirement came out for one person and year."""

    key: str
    label: str
    required: Decimal
    earned: Decimal
    codes: str
    kind: str = "annual"  # annual (R1/R2) or security (R3)

    @property
    def shortfall(self) -> Decimal:
        """Return the hours still missing (zero when met)."""
        return max(self.required - self.earned, ZERO)

    @property
    def met(self) -> bool:
        """Tell whether the requirement is met."""
        return self.earned >= self.required

    @property
    def explanation(self) -> str:
        """Say in one line how the requirement came out."""
        state = "met" if self.met else f"short by {format_hours(self.shortfall)} h"
        return f"{self.label} ({self.codes}): {format_hours(self.earned)} h of {format_hours(self.required)} h required; {state}."


@dataclass(frozen=True)
class ComplianceResult:
    """A person's annual compliance under a profile, with one outcome per requirement (R1-R3)."""

    year: int
    profile_key: str
    profile_name: str
    profile_valid_from: int
    category: StaffCategory
    outcomes: tuple[QuotaOutcome, ...]

    @property
    def compliant(self) -> bool:
        """Tell whether every requirement is met."""
        return all(outcome.met for outcome in self.outcomes)

    @property
    def hours_compliant(self) -> bool:
        """Tell whether the annual learning-hour requirements (R1, R2) are met."""
        return all(o.met for o in self.outcomes if o.kind == "annual")

    @property
    def security_compliant(self) -> bool:
        """Tell whether the 資通安全 requirements (R3) are met."""
        return all(o.met for o in self.outcomes if o.kind == "security")

    @property
    def shortfalls(self) -> tuple[QuotaOutcome, ...]:
        """Return the requirements that are not met."""
        return tuple(outcome for outcome in self.outcomes if not outcome.met)

    def explain(self) -> list[str]:
        """Return one line per requirement, shortfalls first."""
        return [o.explanation for o in self.shortfalls] + [o.explanation for o in self.outcomes if o.met]

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "year": self.year,
            "profile": {"key": self.profile_key, "name": self.profile_name, "valid_from": self.profile_valid_from},
            "category": self.category.value,
            "compliant": self.compliant,
            "hours_compliant": self.hours_compliant,
            "security_compliant": self.security_compliant,
            "outcomes": [
                {"key": o.key, "label": o.label, "codes": o.codes, "required": format_hours(o.required),
                 "earned": format_hours(o.earned), "shortfall": format_hours(o.shortfall), "met": o.met, "kind": o.kind,
                 "explanation": o.explanation}
                for o in self.outcomes
            ],
        }


def is_business_related(code: str, profile: Profile, group_of: Mapping[str, str]) -> bool:
    """Tell whether a code's hours count as business-related under a profile (R1 [policy])."""
    return group_of.get(code, "") not in profile.excluded_groups


def _measure(requirement: Requirement, credit_lines: Sequence[CreditLine], profile: Profile,
             group_of: Mapping[str, str]) -> Decimal:
    total = ZERO
    for line in credit_lines:
        if requirement.business_only and not is_business_related(line.code, profile, group_of):
            continue
        if requirement.codes is not None and line.code not in requirement.codes:
            continue
        total += line.digital if requirement.measure is Measure.DIGITAL else line.hours
    return total


def security_requirements(role: SecurityRole) -> tuple[tuple[str, str, Decimal, str, int], ...]:
    """Return R3's requirements for a role as (key, label, minimum, code, years counted)."""
    general = ("security_general", "資通安全通識 (522, general)", Decimal(3), SECURITY_GENERAL_CODE, 1)
    if role is SecurityRole.GENERAL:
        return (general,)
    if role is SecurityRole.IT:
        return (general, ("security_professional_2y", "資通安全專業 (523) over two years", Decimal(3), SECURITY_PROFESSIONAL_CODE, 2))
    if role is SecurityRole.DEDICATED:
        return (("security_professional", "資通安全專業/職能 (523, dedicated staff)", Decimal(12), SECURITY_PROFESSIONAL_CODE, 1),)
    return ()


def check_security(role: SecurityRole, year_lines: Sequence[CreditLine],
                   previous_year_lines: Sequence[CreditLine] = ()) -> tuple[QuotaOutcome, ...]:
    """Check R3: 522 and 523 hours by role; 523 never counts toward 522; IT staff's 523 spans two years."""
    outcomes = []
    for key, label, minimum, code, years in security_requirements(role):
        counted = list(year_lines) + (list(previous_year_lines) if years == 2 else [])
        earned = sum_hours(line.hours for line in counted if line.code == code)
        outcomes.append(QuotaOutcome(key, label, minimum, earned, code, "security"))
    return tuple(outcomes)


def check_compliance(
    year: int,
    credit_lines: Sequence[CreditLine],
    profile: Profile = EY_DEFAULT,
    *,
    category: StaffCategory = StaffCategory.PERMANENT,
    security_role: SecurityRole = SecurityRole.NONE,
    previous_year_lines: Sequence[CreditLine] = (),
    group_of: Mapping[str, str] | None = None,
) -> ComplianceResult:
    """Check a person's year against a profile (R1, R2) and their 資安 duty (R3), explaining each outcome.

    Hours in a bucket beyond its quota still count toward the total (R1).
    """
    groups = group_of or {}
    outcomes = [
        QuotaOutcome(req.key, req.label, req.minimum, _measure(req, credit_lines, profile, groups), req.describe_codes())
        for req in profile.requirements_for(category)
    ]
    if profile.security:
        outcomes.extend(check_security(security_role, credit_lines, previous_year_lines))
    return ComplianceResult(year, profile.key, profile.name, profile.valid_from, category, tuple(outcomes))


# --- R4, R5, R6: crediting one digital course completion -----------------------------------------------------


@dataclass(frozen=True)
class CourseTerms:
    """What the hour registry declares for a certifiable course (R4-R8, R13)."""

    hours: Decimal
    has_test: bool = True
    pass_mark: Decimal | None = None
    survey_required: bool = True
    cross_year_repeat: bool = False
    class_start: dt.date | None = None
    class_end: dt.date | None = None

    @property
    def required_seconds(self) -> Decimal:
        """Return the reading time the hours require: H x 3600 seconds (R4)."""
        return self.hours * SECONDS_PER_HOUR


@dataclass(frozen=True)
class PassMark:
    """The pass mark a course is judged by, and whether it was defaulted and needs review (R5)."""

    value: Decimal | None
    defaulted: bool

    @property
    def explanation(self) -> str:
        """Say where the pass mark comes from."""
        if self.value is None:
            return "The course has no test."
        if self.defaulted:
            return f"The course declares no pass mark: {format_hours(self.value)} is used and the course is flagged for review (R5)."
        return f"The course's pass mark is {format_hours(self.value)}."


def effective_pass_mark(terms: CourseTerms) -> PassMark:
    """Return the declared pass mark, or 60 flagged for review when a tested course declares none (R5)."""
    if not terms.has_test:
        return PassMark(None, False)
    if terms.pass_mark is None:
        return PassMark(DEFAULT_PASS_MARK, True)
    return PassMark(terms.pass_mark, False)


@dataclass(frozen=True)
class Attempt:
    """What the evidence says about one person's attempt at one course (R4 inputs)."""

    read_seconds: Decimal
    best_score: Decimal | None = None
    test_passed_at: dt.datetime | None = None
    survey_submitted: bool = False
    survey_submitted_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    started_at: dt.datetime | None = None


@dataclass(frozen=True)
class Condition:
    """One condition of a rule, whether it held, and why."""

    key: str
    met: bool
    explanation: str


@dataclass(frozen=True)
class CreditDecision:
    """The hours a completion earns (all or nothing), with every condition explained (R4, R6)."""

    hours: Decimal
    conditions: tuple[Condition, ...]
    flags: tuple[str, ...] = ()
    failures: tuple[Condition, ...] = field(init=False, repr=False, compare=False)  # the conditions that did not hold

    def __post_init__(self) -> None:
        object.__setattr__(self, "failures", tuple(c for c in self.conditions if not c.met))

    @property
    def credited(self) -> bool:
        """Tell whether the completion earns hours."""
        return self.hours > 0

    def explain(self) -> list[str]:
        """Return one line per condition, failures first."""
        return [c.explanation for c in self.failures] + [c.explanation for c in self.conditions if c.met]


def decide_credit(terms: CourseTerms, attempt: Attempt) -> CreditDecision:
    """Credit H hours iff reading >= H x 3600 s, the test (if any) is passed and the survey is in; else 0 (R4).

    A survey submitted before the test is passed only counts once the test is passed (R4). A course
    of 0 h is tracked but credits nothing (R6). No partial credit.
    """
    conditions: list[Condition] = []
    flags: list[str] = []
    required = terms.required_seconds
    read = attempt.read_seconds
    need = f"{_fmt_score(required)} s required ({format_hours(terms.hours)} h x 3600)"
    if read >= required:
        conditions.append(Condition("reading", True, f"Reading time {_fmt_score(read)} s meets the {need}."))
    else:
        conditions.append(Condition("reading", False, f"Reading time {_fmt_score(read)} s is {_fmt_score(required - read)} s short of the {need}."))

    mark = effective_pass_mark(terms)
    if mark.defaulted:
        flags.append("pass_mark_defaulted")
    test_passed = True
    if mark.value is None:
        conditions.append(Condition("test", True, "The course has no test."))
    elif attempt.best_score is None:
        test_passed = False
        conditions.append(Condition("test", False, f"No test score is recorded; the pass mark is {format_hours(mark.value)}."))
    elif attempt.best_score >= mark.value:
        conditions.append(Condition("test", True, f"Best score {_fmt_score(attempt.best_score)} reaches the pass mark {format_hours(mark.value)}."))
    else:
        test_passed = False
        conditions.append(Condition("test", False, f"Best score {_fmt_score(attempt.best_score)} is below the pass mark {format_hours(mark.value)}."))

    if not terms.survey_required:
        conditions.append(Condition("survey", True, "The course requires no survey."))
    elif not attempt.survey_submitted:
        conditions.append(Condition("survey", False, "The survey has not been submitted."))
    elif not test_passed:
        conditions.append(Condition("survey", False, "The survey was submitted, but it only counts once the test is passed."))
    else:
        conditions.append(Condition("survey", True, "The survey has been submitted."))

    if terms.hours == 0:
        conditions.append(Condition("hours", False, "The course carries 0 certified hours: it is tracked but credits nothing (R6)."))
    all_met = all(c.met for c in conditions)
    return CreditDecision(terms.hours if all_met else ZERO, tuple(conditions), tuple(flags))


@functools.lru_cache(maxsize=8192)
def _fmt_score(score: Decimal) -> str:
    return format(Decimal(score).normalize(), "f")


def completion_moment(attempt: Attempt) -> dt.datetime | None:
    """Return when the last of the conditions came to hold: the latest of completion, test pass and survey."""
    moments = [m for m in (attempt.completed_at, attempt.test_passed_at, attempt.survey_submitted_at) if m is not None]
    return max(moments) if moments else None


def check_bundle(item_seconds: Sequence[int | Decimal], hours: Decimal) -> Condition:
    """Check that short items bundled into a course give enough viewing for its hours (R6)."""
    total = sum((Decimal(s) for s in item_seconds), ZERO)
    required = hours * SECONDS_PER_HOUR
    if total >= required:
        return Condition("bundle", True, f"The bundle's {total} s of viewing covers {format_hours(hours)} h ({required} s).")
    return Condition("bundle", False, f"The bundle's {total} s of viewing is {required - total} s short of {format_hours(hours)} h ({required} s); add items or lower the hours.")


# --- R7, R8: year attribution and no duplicate credit ---------------------------------------------------------


def taipei_date(moment: dt.datetime) -> dt.date:
    """Return the calendar date of an aware moment in Asia/Taipei."""
    if moment.tzinfo is None:
        raise RuleError("A completion time must carry its time zone.")
    return moment.astimezone(TAIPEI).date()


def attribute_year(moment: dt.datetime) -> int:
    """Return the year a completion counts toward: its date in Asia/Taipei (R8)."""
    return taipei_date(moment).year


def check_class_period(terms: CourseTerms, moment: dt.datetime) -> Condition:
    """Check that a completion falls inside the course's class period, in Taipei dates, bounds included (R8)."""
    day = taipei_date(moment)
    if terms.class_start is not None and day < terms.class_start:
        return Condition("class_period", False, f"Completed on {day}, before the class period starts ({terms.class_start}).")
    if terms.class_end is not None and day > terms.class_end:
        return Condition("class_period", False, f"Completed on {day}, after the class period ended ({terms.class_end}).")
    return Condition("class_period", True, f"Completed on {day}, inside the class period.")


@dataclass(frozen=True)
class YearChoice:
    """Whether a qualifying completion is credited, and why (R7)."""

    moment: dt.datetime
    year: int
    credited: bool
    explanation: str
    ref: str = ""


def choose_credits(terms: CourseTerms, completions: Sequence[tuple[dt.datetime, str]]) -> list[YearChoice]:
    """Pick which qualifying completions of one course by one person earn credit (R7, R8).

    Without cross-year repeats only the first ever is credited; with them, the first of each year.
    `completions` are (moment, reference) pairs of completions that already passed R4.
    """
    choices: list[YearChoice] = []
    first_ever: YearChoice | None = None
    first_by_year: dict[int, YearChoice] = {}
    for moment, ref in sorted(completions, key=lambda item: item[0]):
        year = attribute_year(moment)
        period = check_class_period(terms, moment)
        if not period.met:
            choices.append(YearChoice(moment, year, False, period.explanation, ref))
            continue
        if not terms.cross_year_repeat and first_ever is not None:
            choices.append(YearChoice(moment, year, False,
                                      f"Already credited in {first_ever.year}; this course does not allow credit again (R7).", ref))
            continue
        if year in first_by_year:
            choices.append(YearChoice(moment, year, False, f"Already credited in {year}; at most one credit a year (R7).", ref))
            continue
        choice = YearChoice(moment, year, True, f"Credited to {year} (completed {taipei_date(moment)} Taipei time).", ref)
        first_by_year[year] = choice
        first_ever = first_ever or choice
        choices.append(choice)
    return choices


# --- R9, R10, R11: upload rows ---------------------------------------------------------------------------------


class LearningNature(enum.IntEnum):
    """學習性質 of an upload row (§2.4)."""

    DIGITAL = 1
    PHYSICAL = 2
    BLENDED = 3


def learning_nature(digital: Decimal, physical: Decimal) -> LearningNature:
    """Derive 學習性質 from the hours: 1 digital only, 2 physical only, 3 both (R9)."""
    if digital > 0 and physical == 0:
        return LearningNature.DIGITAL
    if digital == 0 and physical > 0:
        return LearningNature.PHYSICAL
    if digital > 0 and physical > 0:
        return LearningNature.BLENDED
    raise RuleError("A row needs digital or physical hours above 0; a row of 0 h is never uploaded.")


def roc_date(day: dt.date) -> str:
    """Write a date as ROC `YYY-MM-DD` (Gregorian year - 1911), e.g. 2026-03-05 -> 115-03-05 (R9)."""
    roc_year = day.year - ROC_OFFSET
    if roc_year < 1:
        raise RuleError(f"{day} is before ROC year 1 and cannot be written as an ROC date.")
    return f"{roc_year:03d}-{day.month:02d}-{day.day:02d}"


def roc_year(year: int) -> int:
    """Return the ROC year of a Gregorian year."""
    return year - ROC_OFFSET


def clock_time(moment: dt.time | dt.datetime) -> str:
    """Write a time as `HH:MM:SS` (R9)."""
    return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


@dataclass(frozen=True)
class Segment:
    """A part of a course's hours under its own category code (R10)."""

    code: str
    digital: Decimal
    physical: Decimal
    name: str = ""

    @property
    def hours(self) -> Decimal:
        """Return the segment's hours."""
        return self.digital + self.physical


def split_segments(primary_code: str, digital: Decimal, physical: Decimal,
                   segments: Sequence[Segment]) -> list[Segment]:
    """Split a course's hours into rows: one per segment, the parent row keeps the remainder (R10).

    The rows' hours always add up to the course's hours; a remainder of 0 gives no parent row.
    """
    seg_digital = sum_hours(s.digital for s in segments)
    seg_physical = sum_hours(s.physical for s in segments)
    if seg_digital > digital or seg_physical > physical:
        raise RuleError(
            f"The segments claim {format_hours(seg_digital)} h digital and {format_hours(seg_physical)} h physical, "
            f"more than the course's {format_hours(digital)} h digital and {format_hours(physical)} h physical (R10)."
        )
    for segment in segments:
        if segment.hours <= 0:
            raise RuleError(f"Segment {segment.code} has no hours; give it hours or remove it (R10).")
    rest = Segment(primary_code, digital - seg_digital, physical - seg_physical)
    return ([rest] if rest.hours > 0 else []) + list(segments)


def is_environmental(code: str) -> bool:
    """Tell whether a code is 環境教育 (337-345), which is also reported to 環境教育終身學習網 (R11)."""
    return code in ENV_CODES


# --- R12: MOOC application window -------------------------------------------------------------------------------


def add_working_days(day: dt.date, count: int, holidays: Iterable[dt.date] = ()) -> dt.date:
    """Return the date `count` working days after `day`, skipping weekends and the given holidays."""
    off = set(holidays)
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            remaining -= 1
    return current


def subtract_working_days(day: dt.date, count: int, holidays: Iterable[dt.date] = ()) -> dt.date:
    """Return the date `count` working days before `day`, skipping weekends and the given holidays."""
    off = set(holidays)
    current = day
    remaining = count
    while remaining > 0:
        current -= dt.timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            remaining -= 1
    return current


@dataclass(frozen=True)
class ApplicationDecision:
    """Whether a MOOC hours application is in time, and the upload due date (R12)."""

    accepted: bool
    days_after: int
    upload_due: dt.date | None
    explanation: str


def check_mooc_application(grade_published: dt.date | dt.datetime, applied: dt.date | dt.datetime,
                           holidays: Iterable[dt.date] = ()) -> ApplicationDecision:
    """Accept iff applied within 14 calendar days (holidays included) of grade publication (R12)."""
    published_day = taipei_date(grade_published) if isinstance(grade_published, dt.datetime) else grade_published
    applied_day = taipei_date(applied) if isinstance(applied, dt.datetime) else applied
    days = (applied_day - published_day).days
    if days < 0:
        return ApplicationDecision(False, days, None, f"Applied on {applied_day}, before the grade was published ({published_day}).")
    if days > MOOC_APPLICATION_DAYS:
        return ApplicationDecision(False, days, None,
                                   f"Applied {days} days after the grade was published ({published_day}); the window is {MOOC_APPLICATION_DAYS} calendar days.")
    due = add_working_days(applied_day, UPLOAD_WORKING_DAYS, holidays)
    return ApplicationDecision(True, days, due,
                               f"Applied {days} days after the grade was published; upload by {due} ({UPLOAD_WORKING_DAYS} working days).")


# --- R13: hours for foreign or international courses -------------------------------------------------------


def check_foreign_hours(hours: Decimal, provider_effort_hours: Decimal | None, viewing_enforced: bool,
                        cap: Decimal = FOREIGN_COURSE_CAP) -> list[str]:
    """Return what is wrong with certified hours set for a foreign course (R13); empty when acceptable."""
    problems = []
    if hours != hours.to_integral_value():
        problems.append(f"Certified hours for a foreign course must be a whole number, got {format_hours(hours)} (R13).")
    if provider_effort_hours is not None and hours > provider_effort_hours:
        problems.append(f"Certified hours {format_hours(hours)} exceed the provider's stated effort of {format_hours(provider_effort_hours)} h (R13).")
    if hours >= 1 and not viewing_enforced:
        problems.append("Hours of 1 or more need the reading-time requirement (R4) to be enforceable for this course (R13).")
    if hours > cap:
        problems.append(f"Certified hours {format_hours(hours)} exceed the cap of {format_hours(cap)} h for a single MOOC (R13).")
    return problems


# --- R15: deadline warning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineWarning:
    """A person short on R1/R3 before the counting cut-off (R15)."""

    cutoff: dt.date
    last_completion_day: dt.date
    days_left: int
    shortfalls: tuple[QuotaOutcome, ...]

    @property
    def explanation(self) -> str:
        """Say what is short and by when it must be done."""
        short = "; ".join(f"{o.label} short by {format_hours(o.shortfall)} h" for o in self.shortfalls)
        if self.days_left < 0:
            return (f"{short}. The counting cut-off is {self.cutoff}; the last day that leaves {UPLOAD_WORKING_DAYS} working days "
                    f"for upload ({self.last_completion_day}) has passed: complete and upload at once.")
        return (f"{short}. The counting cut-off is {self.cutoff}; allowing {UPLOAD_WORKING_DAYS} working days for upload, "
                f"complete courses by {self.last_completion_day} ({self.days_left} days left).")


def deadline_warning(result: ComplianceResult, profile: Profile, today: dt.date,
                     holidays: Iterable[dt.date] = ()) -> DeadlineWarning | None:
    """Flag a person short on R1/R3 before the agency's cut-off, allowing 4 working days of upload latency (R15)."""
    if result.compliant:
        return None
    cutoff = profile.cutoff(result.year, result.category)
    if today > cutoff:
        return None
    last_day = subtract_working_days(cutoff, UPLOAD_WORKING_DAYS, holidays)
    return DeadlineWarning(cutoff, last_day, (last_day - today).days, result.shortfalls)
