"""Recognise the xAPI data types: IRIs, UUIDs, language tags, timestamps, durations, mailto IRIs.

xAPI 1.0.3 Data 4 (Data types) and IEEE 9274.1.1 (xAPI 2.0) 4.2.7 define these. Each check is a
precompiled regular expression so that validating a statement stays cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

# Data 4.2 (IRI): an IRI has a scheme; whitespace and control characters are never part of one.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA2 = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
_MAILTO = re.compile(r"^mailto:[^@\s:/?#]+@[^@\s/?#]+$")
# RFC 5646 section 2.1 (langtag, privateuse, grandfathered) without the extension registry.
_LANGTAG = re.compile(
    r"^(?:"
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+"
    r"|en-GB-oed|i-[a-z]{2,8}|sgn-[A-Z]{2}-[A-Z]{2}|zh-min-nan|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-xiang"
    r")$"
)
# ISO 8601 date-time as xAPI uses it (Data 4.5); an offset of -00:00 is not ISO 8601.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)
# The ISO 8601 basic format (20080915T155300.601Z), which ADL's XAPI-00123 names beside the extended one.
_TIMESTAMP_BASIC = re.compile(
    r"^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2})(\d{2})?)?$"
)
# ISO 8601:2004 4.4.3.2 durations (Data 4.6); the alternative format of 4.4.3.3 is refused.
# Its two forms are PnnYnnMnnDTnnHnnMnnS and PnnW: weeks stand alone (ADL suite XAPI-00124, "P4W1D").
_DURATION = re.compile(
    r"^P(?:\d+(?:[.,]\d+)?W"
    r"|(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?)$"
)
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(?:\s*;.*)?$")


def is_iri(value: object) -> bool:
    """Tell whether a value is an absolute IRI (a scheme, then no whitespace)."""
    return isinstance(value, str) and _IRI.match(value) is not None


def is_uuid(value: object) -> bool:
    """Tell whether a value is a UUID in its standard string form."""
    return isinstance(value, str) and _UUID.match(value) is not None


def is_sha1(value: object) -> bool:
    """Tell whether a value is a hex-encoded SHA-1."""
    return isinstance(value, str) and _SHA1.match(value) is not None


def is_sha2(value: object) -> bool:
    """Tell whether a value is a hex-encoded SHA-2 (224, 256, 384 or 512 bits)."""
    return isinstance(value, str) and _SHA2.match(value) is not None


def is_mailto(value: object) -> bool:
    """Tell whether a value is a mailto IRI with one address."""
    return isinstance(value, str) and _MAILTO.match(value) is not None


def is_language_tag(value: object) -> bool:
    """Tell whether a value is an RFC 5646 language tag."""
    if not isinstance(value, str):
        return False
    # Only tags of a plausible length are remembered, so refused keys cannot fill the cache.
    return _well_formed_tag(value) if len(value) <= _CACHED_TAG_LENGTH else _check_tag(value)


_CACHED_TAG_LENGTH = 64


def _check_tag(tag: str) -> bool:
    return _LANGTAG.match(tag) is not None and _no_repeated_subtags(tag)


# Statements repeat a handful of tags ("en-US", "zh-TW") in every language map.
_well_formed_tag = functools.lru_cache(maxsize=4096)(_check_tag)


def _no_repeated_subtags(tag: str) -> bool:
    """Refuse a tag that repeats a variant or an extension singleton (RFC 5646 2.2.5 rule 5, 2.2.6 rule 3).

    RFC 5646 Appendix A lists "de-DE-1901-1901" and "ar-a-aaa-b-bbb-a-ccc" as not well-formed; the
    grammar alone accepts both. Subtags after the private-use singleton "x" are not checked.
    """
    parts = tag.lower().split("-")
    if parts[0] in ("x", "i"):
        return True
    singletons: set[str] = set()
    variants: set[str] = set()
    for part in parts[1:]:
        if part == "x":
            break
        if len(part) == 1:
            if part in singletons:
                return False
            singletons.add(part)
        elif not singletons and (len(part) >= 5 or (len(part) == 4 and part[0].isdigit())):
            if part in variants:
                return False
            variants.add(part)
    return True


def is_duration(value: object) -> bool:
    """Tell whether a value is an ISO 8601 duration in the format of 4.4.3.2."""
    return isinstance(value, str) and _DURATION.match(value) is not None


def is_media_type(value: object) -> bool:
    """Tell whether a value looks like an Internet media type."""
    return isinstance(value, str) and _MEDIA_TYPE.match(value) is not None


def parse_timestamp(value: object) -> dt.datetime | None:
    """Parse an ISO 8601 timestamp into an aware UTC datetime, or return None when it is not one.

    Data 4.5: timestamps without a time zone are taken as UTC; other offsets are converted to UTC.
    """
    parsed = _parse(value)
    return parsed[0] if parsed else None


def _parse(value: object) -> tuple[dt.datetime, str] | None:
    """Return the instant in UTC and the fraction-of-second digits as sent, or None when not a timestamp."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value) or _TIMESTAMP_BASIC.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = match.groups()
    if sign == "-" and off_h == "00" and (off_m or "00") == "00":
        return None  # ISO 8601 forbids -00:00
    if off_m is not None and int(off_m) > 59:
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        offset = dt.timedelta(0)
        if sign:
            offset = dt.timedelta(hours=int(off_h), minutes=int(off_m or 0))
            if offset >= dt.timedelta(hours=24):
                return None
            if sign == "-":
                offset = -offset
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            tzinfo=dt.timezone(offset),
        )
    except ValueError:
        return None
    return moment.astimezone(dt.UTC), fraction or ""


def _utc_text(moment: dt.datetime, fraction: str) -> str:
    """Write a UTC instant as RFC 3339 with the given fraction-of-second digits and "Z"."""
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return f"{day}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{fraction}Z"


def format_timestamp(moment: dt.datetime) -> str:
    """Format an aware datetime as an ISO 8601 UTC timestamp with millisecond precision.

    Data 2.4.7/2.4.8: the LRS may round to milliseconds; ADL's tools compare at that precision.
    """
    utc = moment.astimezone(dt.UTC)
    return _utc_text(utc, f"{utc.microsecond // 1000:03d}")


def canonical_timestamp(text: str) -> str:
    """Rewrite a valid timestamp as the same instant in UTC, RFC 3339, with at least milliseconds.

    xAPI 1.0.3 Data 4.5: "The LRS SHOULD* return the Timestamp in UTC timezone" and a Timestamp
    MUST keep at least millisecond precision (ADL's XAPI-00122 expects "at least 3 decimal points"
    when recalled); IEEE 9274.1.1 4.2.7: the LRS "shall convert Timestamps to UTC". So
    "2024-05-01 08:30:00+0800" is returned as "2024-05-01T00:30:00.000Z". A time without an offset
    is taken as UTC, as everywhere in the LRS. Finer fractions are kept digit for digit: offsets are
    whole minutes, so the conversion never touches them.
    """
    parsed = _parse(text)
    if parsed is None:
        return text
    moment, fraction = parsed
    return _utc_text(moment, fraction.ljust(3, "0"))


def normalise_uuid(value: str) -> str:
    """Return the lowercase form of a UUID string."""
    return value.lower()
