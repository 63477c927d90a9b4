"""Apply the catalog's rules to plain values: validation, hours, search text, workflow, ranking.

Pure functions only (no Flask, no SQLAlchemy), shared by the curator forms, the import and the demo
loader. Problems carry an English message template and its parameters so that pages can translate
them (`_()` with the same parameters) while the import report and the JSON API show the English text.
Rules cited as Rn are those of `domain/certification.md` section 6.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit


def N_(message: str) -> str:
    """Mark a message for translation without translating it here."""
    return message


class Status(enum.StrEnum):
    """Where a course stands in the curation workflow (B1, B3)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETIRED = "retired"


class Format(enum.StrEnum):
    """How a course or resource is delivered."""

    MOOC = "mooc"
    TALK = "talk"
    RECORDED_LECTURE = "recorded_lecture"
    READING = "reading"
    BLENDED = "blended"


class Kind(enum.StrEnum):
    """Whether an item is a course (with a completion path) or a learning resource."""

    COURSE = "course"
    RESOURCE = "resource"


class ProviderType(enum.StrEnum):
    """What kind of institution provides the content."""

    UNIVERSITY = "university"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    GOVERNMENT = "government"
    COMPANY = "company"
    NONPROFIT = "nonprofit"


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.IN_REVIEW: N_("In review"),
    Status.PUBLISHED: N_("Published"),
    Status.RETIRED: N_("Retired"),
}
FORMAT_LABELS = {
    Format.MOOC: N_("MOOC"),
    Format.TALK: N_("Talk"),
    Format.RECORDED_LECTURE: N_("Recorded lecture"),
    Format.READING: N_("Reading"),
    Format.BLENDED: N_("Blended programme"),
}
KIND_LABELS = {Kind.COURSE: N_("Course"), Kind.RESOURCE: N_("Learning resource")}
PROVIDER_TYPE_LABELS = {
    ProviderType.UNIVERSITY: N_("University"),
    ProviderType.INTERNATIONAL_ORGANISATION: N_("International organisation"),
    ProviderType.GOVERNMENT: N_("Government institution"),
    ProviderType.COMPANY: N_("Company or platform"),
    ProviderType.NONPROFIT: N_("Non-profit organisation"),
}
LANGUAGE_LABELS = {
    "zh-Hant": N_("Traditional Chinese"),
    "zh-Hans": N_("Simplified Chinese"),
    "en": N_("English"),
    "ja": N_("Japanese"),
    "ko": N_("Korean"),
    "fr": N_("French"),
    "de": N_("German"),
    "es": N_("Spanish"),
}

# R5: a course with a test that declares no pass mark gets 60 and is flagged for review.
DEFAULT_PASS_MARK = 60
# R13: certified hours of a single MOOC above this are flagged (a suggested cap, not a refusal).
MOOC_SUGGESTED_CAP = Decimal(20)
# Hours above this for one catalog item are a typing error, not a course (the longest real
# programme in the sources is 222 h: 50 h online + 172 h in person).
MAX_HOURS = Decimal(300)
MAX_TITLE = 300
MAX_DESCRIPTION = 5000
MAX_URL = 2000
MAX_SHORT = 300
MAX_LIST_ITEMS = 20
MAX_LIST_ITEM = 60

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{2,39}$")
PROVIDER_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a field, as a translatable message template and its parameters."""

    field: str
    message: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)

    def text(self, translate: Callable[..., str] | None = None) -> str:
        """Return the message, translated when a gettext-like function is given."""
        if translate is not None:
            return translate(self.message, **self.params)
        return self.message % self.params if self.params else self.message


class ValidationFailed(ValueError):
    """Input that breaks one or more catalog rules."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.text()}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Segment:
    """Hours credited under one course-category code (R10)."""

    code: str
    hours: Decimal


@dataclass(frozen=True)
class ProviderData:
    """A provider institution as given in a form or import row."""

    key: str
    name_en: str
    name_zh: str
    country: str
    kind: ProviderType
    website: str = ""


@dataclass
class CourseData:
    """A validated course, ready to be stored."""

    code: str
    kind: Kind
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    provider: ProviderData
    platform: str
    format: Format
    languages: list[str]
    subtitle_languages: list[str]
    url: str
    embed_url: str
    licence_holder: str
    licence_until: dt.date | None
    licence_agreement: str
    effort: str
    effort_hours: Decimal | None
    hours: Decimal
    segments: list[Segment]
    digital_hours: Decimal
    physical_hours: Decimal
    has_test: bool
    pass_mark: int | None
    pass_mark_defaulted: bool
    survey_required: bool
    cross_year_repeat: bool
    class_start: dt.date | None
    class_end: dt.date | None
    topics: list[str]
    tags: list[str]


# Every field a course form or import row may carry, in export order.
COURSE_FIELDS = (
    "code", "kind", "status", "title_zh", "title_en", "description_zh", "description_en",
    "provider_key", "provider_name_en", "provider_name_zh", "provider_country", "provider_type", "provider_website",
    "platform", "format", "languages", "subtitle_languages", "url", "embed_url",
    "licence_holder", "licence_until", "licence_agreement", "effort", "effort_hours",
    "hours", "segments", "digital_hours", "physical_hours", "has_test", "pass_mark",
    "survey_required", "cross_year_repeat", "class_start", "class_end", "topics", "tags",
)


def hours_to_tenths(hours: Decimal) -> int:
    """Turn hours with at most one decimal place into whole tenths (R14: stored exactly)."""
    return int(hours * 10)


def tenths_to_hours(tenths: int) -> Decimal:
    """Turn stored tenths of an hour back into hours."""
    return (Decimal(tenths) / 10).quantize(Decimal("0.1"))


def format_hours(hours: Decimal) -> str:
    """Write hours without a needless trailing `.0`."""
    return str(hours.to_integral_value()) if hours == hours.to_integral_value() else str(hours)


class _Reader:
    """Read raw values (strings from forms and CSV, native values from JSON) and collect problems."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def fail(self, name: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(name, message, params))

    def text(self, name: str, *, required: bool = False, limit: int = MAX_SHORT) -> str:
        value = self.raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(name, N_("Give text, not a list or object."))
            return ""
        text = unicodedata.normalize("NFC", str(value)).strip()
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
            self.fail(name, N_("Remove control characters."))
            return ""
        if required and not text:
            self.fail(name, N_("This is required."))
        elif len(text) > limit:
            self.fail(name, N_("Keep this to %(limit)s characters (it has %(length)s)."), limit=limit, length=len(text))
            return text[:limit]
        return text

    def choice(self, name: str, enum_type: type[enum.StrEnum], default: enum.StrEnum | None = None) -> Any:
        value = self.text(name).lower().replace(" ", "_").replace("-", "_")
        if not value and default is not None:
            return default
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum_type)
            self.fail(name, N_("Use one of: %(allowed)s."), allowed=allowed)
            return default or next(iter(enum_type))

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"1", "true", "yes", "y", "on", "是"}:
            return True
        if lowered in {"0", "false", "no", "n", "off", "否"}:
            return False
        self.fail(name, N_("Use yes or no."))
        return default

    def hours(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, N_("Give the hours, for example 2 or 1.5 (0 for an item that credits no hours)."))
            return None
        return self.parse_hours(name, value)

    def parse_hours(self, name: str, value: Any) -> Decimal | None:
        if isinstance(value, bool):
            self.fail(name, N_("Give hours as a number, for example 2 or 1.5."))
            return None
        try:
            hours = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(name, N_("%(value)s is not a number of hours; write for example 2 or 1.5."), value=str(value)[:40])
            return None
        if not hours.is_finite():
            self.fail(name, N_("%(value)s is not a number of hours; write for example 2 or 1.5."), value=str(value)[:40])
            return None
        if hours < 0:
            self.fail(name, N_("Hours cannot be negative (got %(value)s)."), value=format_hours(hours))
            return None
        if hours > MAX_HOURS:
            self.fail(name, N_("%(value)s hours is more than any single course carries (at most %(max)s); check the figure."),
                      value=format_hours(hours), max=format_hours(MAX_HOURS))
            return None
        if hours != hours.quantize(Decimal("0.1")):
            # R14: hours are stored with one decimal place and never rounded.
            self.fail(name, N_("Give hours with at most one decimal place (got %(value)s)."), value=str(hours))
            return None
        return hours.quantize(Decimal("0.1"))

    def date(self, name: str) -> dt.date | None:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(name, N_("Write the date as YYYY-MM-DD (got %(value)s)."), value=str(value)[:40])
            return None

    def url(self, name: str, *, required: bool = False) -> str:
        text = self.text(name, required=required, limit=MAX_URL)
        if not text:
            return ""
        problem = url_problem(text)
        if problem:
            self.fail(name, problem, value=text[:80])
            return ""
        return text

    def items(self, name: str) -> list[str]:
        value = self.raw.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            parts = [part for part in re.split(r"[;,、；，\n]", value)]
        elif isinstance(value, list | tuple):
            if not all(isinstance(part, str) for part in value):
                self.fail(name, N_("Give a list of words."))
                return []
            parts = list(value)
        else:
            self.fail(name, N_("Give a list of words."))
            return []
        cleaned: list[str] = []
        for part in parts:
            word = unicodedata.normalize("NFC", part).strip()
            if not word:
                continue
            if len(word) > MAX_LIST_ITEM:
                self.fail(name, N_("Keep each entry to %(limit)s characters."), limit=MAX_LIST_ITEM)
                return []
            if word.casefold() not in {c.casefold() for c in cleaned}:
                cleaned.append(word)
        if len(cleaned) > MAX_LIST_ITEMS:
            self.fail(name, N_("Give at most %(limit)s entries."), limit=MAX_LIST_ITEMS)
            return cleaned[:MAX_LIST_ITEMS]
        return cleaned


def url_problem(text: str) -> str | None:
    """Return why a URL is unusable as a course link, or None when it is a well-formed http(s) URL."""
    if any(ch.isspace() for ch in text):
        return N_("%(value)s is not a valid web address: it contains spaces.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return N_("%(value)s is not a valid web address.")
    if parts.scheme not in {"http", "https"}:
        return N_("%(value)s is not a web address: it must start with https:// or http://.")
    if not parts.hostname or ("." not in parts.hostname.strip(".") and parts.hostname != "localhost"):
        return N_("%(value)s has no valid host name.")
    if parts.username or parts.password:
        return N_("%(value)s carries a user name or password; give the address without them.")
    del port
    return None


def parse_segments(value: Any, reader: _Reader, is_valid_code: Callable[[str], bool]) -> list[Segment]:
    """Parse `code:hours` segments ("202:10;505:4") or a JSON list of {code, hours} (R10)."""
    name = "segments"
    entries: list[tuple[Any, Any]] = []
    if value is None or value == "":
        return []
    if isinstance(value, str):
        for chunk in re.split(r"[;,\n]", value):
            chunk = chunk.strip()
            if not chunk:
                continue
            code, sep, hours = chunk.partition(":")
            if not sep:
                reader.fail(name, N_("Write each segment as code:hours, for example 202:10 (got %(value)s)."), value=chunk[:40])
                return []
            entries.append((code.strip(), hours.strip()))
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, Mapping) or "code" not in item or "hours" not in item:
                reader.fail(name, N_("Give each segment as an object with code and hours."))
                return []
            entries.append((str(item["code"]).strip(), item["hours"]))
    else:
        reader.fail(name, N_("Write each segment as code:hours, for example 202:10 (got %(value)s)."), value=str(value)[:40])
        return []
    segments: list[Segment] = []
    seen: set[str] = set()
    for code, raw_hours in entries:
        if not is_valid_code(code):
            reader.fail(name, N_("Category code %(code)s is not in the lifelong-learning portal's code table."), code=str(code)[:20])
            continue
        if code in seen:
            reader.fail(name, N_("Category code %(code)s appears twice; give each code once."), code=code)
            continue
        seen.add(code)
        hours = reader.parse_hours(name, raw_hours)
        if hours is not None:
            segments.append(Segment(code, hours))
    return segments


def validate_course(raw: Mapping[str, Any], is_valid_code: Callable[[str], bool]) -> CourseData:
    """Check a course's raw fields against every catalog rule and return the clean values."""
    r = _Reader(raw)
    code = r.text("code", required=True, limit=40).upper()
    if code and not CODE_RE.match(code):
        r.fail("code", N_("A course code has 3 to 40 letters, digits or . _ - and starts with a letter or digit (got %(value)s)."), value=code)
    kind = r.choice("kind", Kind, Kind.COURSE)
    title_zh = r.text("title_zh", required=True, limit=MAX_TITLE)
    title_en = r.text("title_en", required=True, limit=MAX_TITLE)
    description_zh = r.text("description_zh", limit=MAX_DESCRIPTION)
    description_en = r.text("description_en", limit=MAX_DESCRIPTION)
    provider = _provider(r)
    platform = r.text("platform", limit=120)
    course_format = r.choice("format", Format, None)
    languages = _languages(r, "languages", required=True)
    subtitle_languages = _languages(r, "subtitle_languages")
    url = r.url("url", required=True)
    embed_url = r.url("embed_url")
    licence_holder = r.text("licence_holder", limit=MAX_SHORT)
    licence_until = r.date("licence_until")
    licence_agreement = r.text("licence_agreement", limit=MAX_SHORT)
    effort = r.text("effort", limit=MAX_SHORT)
    effort_hours = r.hours("effort_hours")
    hours = r.hours("hours", required=True)
    segments = parse_segments(raw.get("segments"), r, is_valid_code)
    digital = r.hours("digital_hours")
    physical = r.hours("physical_hours")
    has_test = r.flag("has_test", True)
    pass_mark, pass_mark_defaulted = _pass_mark(r, has_test)
    survey_required = r.flag("survey_required", True)
    cross_year_repeat = r.flag("cross_year_repeat", False)
    class_start = r.date("class_start")
    class_end = r.date("class_end")
    topics = r.items("topics")
    tags = r.items("tags")

    if hours is not None:
        _check_hours(r, hours, segments, effort_hours, course_format)
        digital, physical = _split_hours(r, hours, digital, physical, course_format)
    if class_start and class_end and class_end < class_start:
        r.fail("class_end", N_("The class period ends (%(end)s) before it starts (%(start)s)."),
               end=class_end.isoformat(), start=class_start.isoformat())
    if r.problems:
        raise ValidationFailed(r.problems)
    assert hours is not None and course_format is not None and digital is not None and physical is not None
    return CourseData(
        code=code, kind=kind, title_zh=title_zh, title_en=title_en, description_zh=description_zh,
        description_en=description_en, provider=provider, platform=platform, format=course_format,
        languages=languages, subtitle_languages=subtitle_languages, url=url, embed_url=embed_url,
        licence_holder=licence_holder, licence_until=licence_until, licence_agreement=licence_agreement,
        effort=effort, effort_hours=effort_hours, hours=hours, segments=segments, digital_hours=digital,
        physical_hours=physical, has_test=has_test, pass_mark=pass_mark, pass_mark_defaulted=pass_mark_defaulted,
        survey_required=survey_required, cross_year_repeat=cross_year_repeat, class_start=class_start,
        class_end=class_end, topics=topics, tags=tags,
    )


def _provider(r: _Reader) -> ProviderData:
    name_en = r.text("provider_name_en", required=True, limit=200)
    name_zh = r.text("provider_name_zh", limit=200) or name_en
    key = r.text("provider_key", limit=60).lower() or slugify(name_en)
    if key and not PROVIDER_KEY_RE.match(key):
        r.fail("provider_key", N_("A provider key has 2 to 60 lower-case letters, digits or hyphens (got %(value)s)."), value=key)
    country = r.text("provider_country", required=True, limit=20).upper()
    if country and not COUNTRY_RE.match(country):
        r.fail("provider_country", N_("Give the country as a two-letter ISO code such as US, GB or TW (got %(value)s)."), value=country)
    kind = r.choice("provider_type", ProviderType, ProviderType.UNIVERSITY)
    website = r.url("provider_website")
    return ProviderData(key=key, name_en=name_en, name_zh=name_zh, country=country, kind=kind, website=website)


def _languages(r: _Reader, name: str, *, required: bool = False) -> list[str]:
    languages = r.items(name)
    if required and not languages and not any(p.field == name for p in r.problems):
        r.fail(name, N_("Give at least one language, for example en or zh-Hant."))
    for language in languages:
        if not LANGUAGE_RE.match(language):
            r.fail(name, N_("%(value)s is not a language tag; use tags such as en, zh-Hant or ja."), value=language)
            return []
    return languages


def _pass_mark(r: _Reader, has_test: bool) -> tuple[int | None, bool]:
    value = r.raw.get("pass_mark")
    if value is None or (isinstance(value, str) and not value.strip()):
        # R5: no declared pass mark on a course with a test means 60, flagged for review.
        return (DEFAULT_PASS_MARK, True) if has_test else (None, False)
    if not has_test:
        r.fail("pass_mark", N_("A pass mark needs a test; tick that the course has a test or leave the pass mark empty."))
        return None, False
    try:
        mark = int(str(value).strip())
    except ValueError:
        r.fail("pass_mark", N_("A pass mark is a whole number from 0 to 100 (got %(value)s)."), value=str(value)[:20])
        return None, False
    if not 0 <= mark <= 100:
        r.fail("pass_mark", N_("A pass mark is a whole number from 0 to 100 (got %(value)s)."), value=str(mark))
        return None, False
    return mark, False


def _check_hours(r: _Reader, hours: Decimal, segments: list[Segment], effort_hours: Decimal | None,
                 course_format: Format | None) -> None:
    if any(p.field == "segments" for p in r.problems):
        return
    if not segments:
        r.fail("segments", N_("Give at least one category code with its hours, for example 202:%(hours)s."),
               hours=format_hours(hours))
        return
    total = sum((segment.hours for segment in segments), Decimal(0))
    if total != hours:
        # R10: the segments split the certified hours exactly.
        r.fail("segments", N_("The category-code segments add up to %(sum)s h but the certified hours are %(hours)s h; they must be equal."),
               sum=format_hours(total), hours=format_hours(hours))
    if hours > 0 and any(segment.hours == 0 for segment in segments):
        r.fail("segments", N_("Remove the 0-hour segment, or give it part of the hours."))
    if effort_hours is not None and hours > effort_hours:
        # R13: certified hours never exceed the provider's stated effort.
        r.fail("hours", N_("Certified hours (%(hours)s) cannot exceed the provider's stated effort (%(effort)s h)."),
               hours=format_hours(hours), effort=format_hours(effort_hours))
    del course_format


def _split_hours(r: _Reader, hours: Decimal, digital: Decimal | None, physical: Decimal | None,
                 course_format: Format | None) -> tuple[Decimal | None, Decimal | None]:
    if digital is None and physical is None:
        if course_format is Format.BLENDED and hours > 0:
            r.fail("digital_hours", N_("A blended programme needs its digital and physical hours."))
            return None, None
        return hours, Decimal("0.0")
    digital = digital if digital is not None else hours - (physical or Decimal(0))
    physical = physical if physical is not None else hours - digital
    if digital < 0 or physical < 0 or digital + physical != hours:
        r.fail("digital_hours", N_("Digital (%(digital)s) and physical (%(physical)s) hours must add up to the certified hours (%(hours)s)."),
               digital=format_hours(digital), physical=format_hours(physical), hours=format_hours(hours))
        return None, None
    return digital.quantize(Decimal("0.1")), physical.quantize(Decimal("0.1"))


def review_flags(course: CourseData | Any) -> list[str]:
    """List what a reviewer should look at twice (R5 defaulted pass mark, R13 cap, R6 zero hours)."""
    flags: list[str] = []
    if getattr(course, "pass_mark_defaulted", False):
        flags.append(N_("No pass mark was declared; 60 is assumed until a reviewer confirms it (R5)."))
    hours = course.hours
    if course.format == Format.MOOC and hours > MOOC_SUGGESTED_CAP:
        flags.append(N_("More than 20 certified hours for a single MOOC; the suggested cap is 20 (R13)."))
    if hours == 0:
        flags.append(N_("Credits 0 hours on its own; bundle short items into a course to credit hours (R6)."))
    if hours > 0 and hours != hours.to_integral_value():
        flags.append(N_("Certified hours are not a whole number; the portal usually shows whole hours (R13, R14)."))
    return flags


def slugify(text: str) -> str:
    """Make a provider key from an English name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


# ---- search -----------------------------------------------------------------------------------

def normalise_search(text: str) -> str:
    """Fold text for substring search: NFKC (full-width to half-width), case-folded, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def search_terms(query: str) -> list[str]:
    """Split a query into terms that must all appear (at most 8, each at most 60 characters)."""
    return [term[:60] for term in normalise_search(query).split(" ") if term][:8]


def search_text(parts: Iterable[str]) -> str:
    """Build the stored search column from every searchable field of a course."""
    return " \n ".join(normalise_search(part) for part in parts if part)


def pack(items: Iterable[str]) -> str:
    """Store a list as `|a|b|` so that one item is found with LIKE '%|a|%' on every backend."""
    values = [item.replace("|", "/") for item in items]
    return "|" + "|".join(values) + "|" if values else ""


def unpack(text: str) -> list[str]:
    """Read a list stored by `pack`."""
    return [item for item in text.strip("|").split("|") if item] if text else []


# ---- workflow ---------------------------------------------------------------------------------

class Action(enum.StrEnum):
    """A curation step (B3)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    PUBLISH = "publish"
    RETIRE = "retire"
    REOPEN = "reopen"


TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.SUBMIT: (frozenset({Status.DRAFT}), Status.IN_REVIEW),
    Action.APPROVE: (frozenset({Status.IN_REVIEW}), Status.IN_REVIEW),
    Action.RETURN: (frozenset({Status.IN_REVIEW}), Status.DRAFT),
    Action.PUBLISH: (frozenset({Status.IN_REVIEW}), Status.PUBLISHED),
    Action.RETIRE: (frozenset({Status.PUBLISHED, Status.DRAFT, Status.IN_REVIEW}), Status.RETIRED),
    Action.REOPEN: (frozenset({Status.RETIRED}), Status.DRAFT),
}

# The written quality checklist a reviewer confirms before a course can be published (B3).
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("link", N_("The course address opens and leads to the course itself, not a search or sign-up page.")),
    ("licence", N_("The licence lets our learners use it for the whole class period, and its holder, end date and agreement are recorded.")),
    ("provider", N_("The provider, its country and type, and its stated effort come from the provider's own pages.")),
    ("hours", N_("Certified hours are no more than the stated effort, at most 20 for a single MOOC, and each category code fits the content (R10, R13).")),
    ("assessment", N_("The pass mark, the survey and the cross-year repeat rule are declared as the hosting institution decided (R4, R5, R7).")),
    ("language", N_("Both titles and descriptions are accurate, neutral and free of advertising, in Traditional Chinese and English.")),
    ("access", N_("Learners can follow it: subtitles or a transcript exist in a language they read, and the page works with a keyboard.")),
)


def next_status(current: Status, action: Action, *, approved: bool, checklist: Iterable[str] = ()) -> Status:
    """Return the status after an action, or raise ValueError saying why the action is not allowed now."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        raise ValueError(f"A {current.value.replace('_', ' ')} course cannot be sent to '{action.value}'.")
    if action is Action.APPROVE:
        missing = [key for key, _text in CHECKLIST if key not in set(checklist)]
        if missing:
            raise ValueError("Confirm every quality checklist item before approving; missing: " + ", ".join(missing) + ".")
    if action is Action.PUBLISH and not approved:
        raise ValueError("A reviewer must approve the course against the quality checklist before it is published.")
    return target


# ---- ranking ----------------------------------------------------------------------------------

def rank_score(launches: int, completions: int, rating_sum: int, rating_count: int, recommended: bool) -> float:
    """Combine popularity, completion rate, ratings and expert recommendation into one ranking signal (B6).

    Popularity counts on a log scale so that a few very popular items do not bury the rest; the
    completion rate is smoothed towards 50 % until enough learners started (a Bayesian average with
    10 virtual launches), and so is the rating (towards 3 of 5 with 5 virtual ratings).
    """
    popularity = math.log1p(max(launches, 0))
    completion_rate = (max(completions, 0) + 5) / (max(launches, 0) + 10)
    rating = (rating_sum + 3 * 5) / (rating_count + 5)
    return round(popularity + 3 * completion_rate + (rating - 3) + (1.0 if recommended else 0.0), 6)
