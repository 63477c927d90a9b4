"""Test statement validation against the xAPI 1.0.3 Data rules and IEEE 9274.1.1 (2.0.0) tables."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lrs.xapi import types
from lrs.xapi.validation import Invalid, validate_statement
from tests.lrs.xapi.helpers import statement

V1 = "1.0.3"
V2 = "2.0.0"


def full_statement() -> dict[str, Any]:
    """Return a statement that uses nearly every property."""
    return statement(
        id="3b2a0d4e-6c1f-4b8e-9a3d-2f1e0c9b8a7d",
        actor={"objectType": "Group", "name": "Team", "member": [{"mbox_sha1sum": "a" * 40}, {"openid": "https://id.example.com/u"}]},
        object={
            "id": "http://example.com/q1",
            "definition": {
                "name": {"en-US": "Q1", "zh-Hant-TW": "問題一"},
                "description": {"en": "A question"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "moreInfo": "https://example.com/q1",
                "interactionType": "choice",
                "correctResponsesPattern": ["a[,]b"],
                "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b"}],
                "extensions": {"http://example.com/ext": {"any": [1, None]}},
            },
        },
        result={
            "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            "success": True,
            "completion": False,
            "response": "a[,]b",
            "duration": "PT1H2M3.45S",
            "extensions": {"http://example.com/r": None},
        },
        context={
            "registration": "6fbd600f-d17c-4c74-801a-2ec2e53231f6",
            "instructor": {"account": {"homePage": "https://lms.example.com", "name": "t1"}},
            "team": {"objectType": "Group", "mbox": "mailto:team@example.com"},
            "contextActivities": {"parent": [{"id": "http://example.com/course"}], "category": {"id": "http://example.com/c"}},
            "revision": "r2",
            "platform": "Moodle",
            "language": "zh-TW",
            "statement": {"objectType": "StatementRef", "id": "6fbd600f-d17c-4c74-801a-2ec2e53231f7"},
            "extensions": {"http://example.com/c": 1},
        },
        timestamp="2024-05-01T08:30:00.123+08:00",
        attachments=[
            {
                "usageType": "http://example.com/certificate",
                "display": {"en": "Certificate"},
                "contentType": "application/pdf",
                "length": 10,
                "sha2": "0" * 64,
                "fileUrl": "https://example.com/cert.pdf",
            }
        ],
        version="1.0.3",
    )


@pytest.mark.parametrize("version", [V1, V2])
def test_validation_full_statement_accepted(version: str) -> None:
    """Accept a statement that uses every property correctly (Data 2.4)."""
    assert validate_statement(full_statement(), version)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.update(object={"objectType": "SubStatement", "actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}}),
        lambda s: s.update(object={"objectType": "StatementRef", "id": "6fbd600f-d17c-4c74-801a-2ec2e53231f7"}),
        lambda s: s.update(object={"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}),
        lambda s: s.update(actor={"openid": "http://openid.example.com/x"}),
        lambda s: s.update(timestamp="2024-05-01T08:30:00Z"),
        lambda s: s.update(timestamp="2024-05-01T08:30:00"),
        lambda s: s.update(timestamp="2008-09-15 15:53:00.601+00:00"),
        lambda s: s["verb"].pop("display"),
        lambda s: s["result"].update(duration="P1DT2H"),
        lambda s: s["result"].update(duration="P3W"),
        lambda s: s["result"]["score"].update(raw=10),
        lambda s: s["context"].update(language="en-GB-oed"),
    ],
)
def test_validation_valid_variants_accepted(mutate: Any) -> None:
    """Accept each allowed variant (Data 2.4; being stricter than the specification is wrong too)."""
    value = full_statement()
    mutate(value)
    if value["object"].get("objectType", "Activity") != "Activity":
        value["context"].pop("revision", None)
        value["context"].pop("platform", None)
    assert validate_statement(value, V1)


def _invalid(path: str, fragment: str, mutate: Any) -> Any:
    return pytest.param(mutate, path, fragment, id=path)


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        _invalid("statement.id", "UUID", lambda s: s.update(id="not-a-uuid")),
        _invalid("statement.extra", "not a property", lambda s: s.update(extra=1)),
        _invalid("statement.result", "null", lambda s: s.update(result=None)),
        _invalid("statement.actor", "exactly one", lambda s: s.update(actor={"mbox": "mailto:a@b.c", "openid": "http://x.y/z"})),
        _invalid("statement.actor", "exactly one", lambda s: s.update(actor={"name": "nobody"})),
        _invalid("statement.actor.mbox", "mailto", lambda s: s.update(actor={"mbox": "a@b.c"})),
        _invalid("statement.actor.mbox_sha1sum", "SHA-1", lambda s: s.update(actor={"mbox_sha1sum": "xyz"})),
        _invalid("statement.actor.account.homePage", "is required", lambda s: s.update(actor={"account": {"name": "a"}})),
        _invalid("statement.actor.objectType", "'Agent'", lambda s: s.update(actor={"objectType": "agent", "mbox": "mailto:a@b.c"})),
        _invalid("statement.actor.member[0].objectType", "not Groups", lambda s: s["actor"]["member"].__setitem__(0, {"objectType": "Group", "mbox": "mailto:g@b.c"})),
        _invalid("statement.actor.member", "anonymous Group", lambda s: s["actor"].pop("member")),
        _invalid("statement.verb.id", "IRI", lambda s: s["verb"].update(id="completed")),
        _invalid("statement.verb.display.not a tag", "language tag", lambda s: s["verb"].update(display={"not a tag": "x"})),
        _invalid("statement.verb.display.en", "string", lambda s: s["verb"].update(display={"en": 5})),
        _invalid("statement.object.objectType", "one of", lambda s: s["object"].update(objectType="activity")),
        _invalid("statement.object.id", "is required", lambda s: s["object"].pop("id")),
        _invalid("statement.object.definition.interactionType", "must be one of", lambda s: s["object"]["definition"].update(interactionType="essay")),
        _invalid("statement.object.definition.choices[1].id", "unique", lambda s: s["object"]["definition"]["choices"][1].update(id="a")),
        _invalid("statement.object.definition.correctResponsesPattern[0]", "string", lambda s: s["object"]["definition"].update(correctResponsesPattern=[1])),
        _invalid("statement.object.definition.correctResponsesPattern", "interactionType", lambda s: s["object"]["definition"].pop("interactionType")),
        _invalid("statement.object.definition.extensions.notiri", "IRIs", lambda s: s["object"]["definition"].update(extensions={"notiri": 1})),
        _invalid("statement.object.definition.moreInfo", "IRI", lambda s: s["object"]["definition"].update(moreInfo="example.com")),
        _invalid("statement.result.score.scaled", "between -1 and 1", lambda s: s["result"]["score"].update(scaled=1.5)),
        _invalid("statement.result.score.raw", "between", lambda s: s["result"]["score"].update(raw=11)),
        _invalid("statement.result.score.min", "less than", lambda s: s["result"]["score"].update(min=10)),
        _invalid("statement.result.score.raw", "number", lambda s: s["result"]["score"].update(raw="5")),
        _invalid("statement.result.success", "true or false", lambda s: s["result"].update(success="true")),
        _invalid("statement.result.duration", "ISO 8601", lambda s: s["result"].update(duration="PT1H2M3.45")),
        _invalid("statement.result.duration", "ISO 8601", lambda s: s["result"].update(duration="P0001-02-03T04:05:06")),
        _invalid("statement.context.registration", "UUID", lambda s: s["context"].update(registration="abc")),
        _invalid("statement.context.team.objectType", "'Group'", lambda s: s["context"].update(team={"mbox": "mailto:a@b.c"})),
        _invalid("statement.context.contextActivities.sibling", "parent, grouping", lambda s: s["context"]["contextActivities"].update(sibling=[])),
        _invalid("statement.context.language", "language tag", lambda s: s["context"].update(language="english!")),
        _invalid("statement.object.definition.interactionType", "string", lambda s: s["object"]["definition"].update(interactionType={"test": "value"})),
        _invalid("statement.object.definition.interactionType", "string", lambda s: s["object"]["definition"].update(interactionType=["choice"])),
        _invalid("statement.result.duration", "ISO 8601", lambda s: s["result"].update(duration="P4W1D")),
        _invalid("statement.result.duration", "ISO 8601", lambda s: s["result"].update(duration="P2WT3H")),
        _invalid("statement.context.contextActivities", "at least one", lambda s: s["context"].update(contextActivities={})),
        _invalid("statement.context.language", "language tag", lambda s: s["context"].update(language="ar-a-aaa-b-bbb-a-ccc")),
        _invalid("statement.verb.display.de-DE-1901-1901", "language tag", lambda s: s["verb"].update(display={"de-DE-1901-1901": "x"})),
        _invalid("statement.context.statement.objectType", "StatementRef", lambda s: s["context"].update(statement={"id": "6fbd600f-d17c-4c74-801a-2ec2e53231f7"})),
        _invalid("statement.context.contextAgents", "not a property", lambda s: s["context"].update(contextAgents=[])),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="2024-05-01 08:30")),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="2024-05-01T08:30:00-00:00")),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="2008-09-15T15:53:00.601-00")),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="2008-09-15T15:53:00.601-0000")),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="01/011/2015")),
        _invalid("statement.timestamp", "ISO 8601", lambda s: s.update(timestamp="2024-13-01T08:30:00Z")),
        _invalid("statement.attachments[0].sha2", "SHA-2", lambda s: s["attachments"][0].update(sha2="abc")),
        _invalid("statement.attachments[0].length", "whole number", lambda s: s["attachments"][0].update(length=1.5)),
        _invalid("statement.attachments[0].display", "is required", lambda s: s["attachments"][0].pop("display")),
        _invalid("statement.version", "1.0.x", lambda s: s.update(version="0.95")),
        _invalid("statement.version", "1.0.x", lambda s: s.update(version="2.0.0")),
        _invalid("statement.authority.member", "exactly two", lambda s: s.update(authority={"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]})),
        _invalid("statement.object.id", "is not allowed in a SubStatement", lambda s: s.update(object={"objectType": "SubStatement", "id": "x"})),
        _invalid(
            "statement.object.object.objectType",
            "must not contain another SubStatement",
            lambda s: s.update(
                object={
                    "objectType": "SubStatement",
                    "actor": {"mbox": "mailto:a@b.c"},
                    "verb": {"id": "http://e.com/v"},
                    "object": {"objectType": "SubStatement"},
                }
            ),
        ),
        _invalid("statement.object.member", "not a property", lambda s: s.update(object={"objectType": "Agent", "mbox": "mailto:a@b.c", "member": []})),
    ],
)
def test_validation_invalid_rejected_with_path_and_rule(mutate: Any, path: str, fragment: str) -> None:
    """Reject each rule's violation with one message naming its path and the rule (Data 2.2; IEEE 9274.1.1 4.2.1)."""
    value = full_statement()
    mutate(value)
    with pytest.raises(Invalid) as caught:
        validate_statement(value, V1)
    assert caught.value.status == 400
    assert caught.value.path == path, caught.value.message
    assert fragment in caught.value.rule


def test_validation_v2_accepts_context_agents_and_groups() -> None:
    """Accept contextAgents and contextGroups under 2.0.0 (IEEE 9274.1.1 4.2.2.5)."""
    value = full_statement()
    value["version"] = "2.0.0"
    value["context"]["contextAgents"] = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.c"}}]
    value["context"]["contextGroups"] = [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:g@b.c"}, "relevantTypes": ["http://e.com/t"]}
    ]
    assert validate_statement(value, V2)
    bad = copy.deepcopy(value)
    bad["context"]["contextGroups"][0]["relevantTypes"] = []
    with pytest.raises(Invalid, match="non-empty array"):
        validate_statement(bad, V2)


def test_validation_null_inside_extensions_allowed() -> None:
    """Allow null values inside extensions only (Data 2.2.s4.b4)."""
    value = full_statement()
    value["context"]["extensions"] = {"http://example.com/n": None}
    assert validate_statement(value, V1)


def test_validation_booleans_are_not_numbers() -> None:
    """Refuse true where a number is required (IEEE 9274.1.1 4.2.1 wrong data type)."""
    value = full_statement()
    value["result"]["score"]["raw"] = True
    with pytest.raises(Invalid, match="number"):
        validate_statement(value, V1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T08:30:00Z", "2024-05-01T08:30:00.000Z"),
        ("2024-05-01T08:30:00.1234567+08:00", "2024-05-01T00:30:00.123Z"),
        ("2024-05-01T08:30:00-0530", "2024-05-01T14:00:00.000Z"),
    ],
)
def test_types_timestamps_converted_to_utc(text: str, expected: str) -> None:
    """Convert timestamps to UTC rather than rejecting other offsets (IEEE 9274.1.1 4.2.7 Timestamps)."""
    parsed = types.parse_timestamp(text)
    assert parsed is not None
    assert types.format_timestamp(parsed) == expected


@pytest.mark.parametrize(
    "tag",
    ["en", "en-US", "zh-Hant-TW", "es-419", "x-private", "de-CH-1901", "i-klingon", "sl-rozaj-biske", "en-a-bbb-x-a-ccc", "zh-cmn-Hans-CN"],
)
def test_types_language_tags_accepted(tag: str) -> None:
    """Accept RFC 5646 language tags (Data 4.1 Language Maps)."""
    assert types.is_language_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "e", "english_US", "en-", "toolonglanguage", "123", "ar-a-aaa-b-bbb-a-ccc", "de-DE-1901-1901", "sl-Rozaj-rozaj"]
)
def test_types_bad_language_tags_rejected(tag: str) -> None:
    """Reject strings that are not RFC 5646 tags (IEEE 9274.1.1 4.2.7 Language Maps).

    RFC 5646 2.2.5 (a variant used twice) and 2.2.6 (an extension singleton used twice) make the
    last three not well-formed; Appendix A lists the first two as invalid examples.
    """
    assert not types.is_language_tag(tag)


@pytest.mark.parametrize(("text", "valid"), [("P4W", True), ("P0.5W", True), ("P4W1D", False), ("P1Y2W", False), ("P2WT3H", False), ("P1Y2M3DT4H5M6.5S", True)])
def test_types_weeks_stand_alone_in_durations(text: str, valid: bool) -> None:
    """ISO 8601:2004 4.4.3.2 has two duration forms, PnnYnnMnnDTnnHnnMnnS and PnnW (Data 4.6; suite XAPI-00124)."""
    assert types.is_duration(text) is valid


@pytest.mark.parametrize(
    ("sent", "returned"),
    [
        ("2013-05-01T12:00:00Z", "2013-05-01T12:00:00.000Z"),
        ("2013-05-01t12:00:00z", "2013-05-01T12:00:00.000Z"),
        ("2008-09-15 15:53:00.601+00:00", "2008-09-15T15:53:00.601Z"),
        ("2024-05-01T08:30:00.1234567+0800", "2024-05-01T00:30:00.1234567Z"),
        ("2013-05-01T12:00:00+05", "2013-05-01T07:00:00.000Z"),
        ("2013-12-31T23:30:00-01:00", "2014-01-01T00:30:00.000Z"),
        ("2024-05-01T08:30:00", "2024-05-01T08:30:00.000Z"),
        ("20080915T155300.601Z", "2008-09-15T15:53:00.601Z"),
        ("2024-05-01T08:30:00,5-05:00", "2024-05-01T13:30:00.500Z"),
        ("0099-01-01T00:00:00Z", "0099-01-01T00:00:00.000Z"),
    ],
)
def test_types_canonical_timestamp_is_the_same_instant_in_utc(sent: str, returned: str) -> None:
    """Return timestamps in UTC, RFC 3339, with at least 3 decimals, keeping finer ones.

    xAPI 1.0.3 Data 4.5 ("The LRS SHOULD* return the Timestamp in UTC timezone"; at least millisecond
    precision); IEEE 9274.1.1 4.2.7 (convert Timestamps to UTC); ADL XAPI-00122, XAPI-00123 (basic format).
    """
    assert types.canonical_timestamp(sent) == returned
    assert types.parse_timestamp(returned) == types.parse_timestamp(sent)


@pytest.mark.parametrize("text", ["2013-05-01T12:00:00+05:99", "20130501T120000+0560", "2013-05-01T12:00:00-00:00"])
def test_types_offsets_out_of_range_are_refused(text: str) -> None:
    """Refuse offset minutes above 59 and -00:00, which ISO 8601 does not allow (Data 4.5)."""
    assert types.parse_timestamp(text) is None


def test_validation_accepts_the_iso_8601_basic_format() -> None:
    """Accept a basic-format timestamp (Data 4.5 "formatted according to ISO 8601"; ADL XAPI-00123)."""
    value = full_statement()
    value["timestamp"] = "20080915T155300.601+0800"
    assert validate_statement(value, V1)


def test_types_long_language_keys_are_checked_without_being_remembered() -> None:
    """Check a key longer than any usual tag each time, so refused keys cannot fill the tag cache (Data 4.2)."""
    before = types._well_formed_tag.cache_info().currsize
    assert not types.is_language_tag("a" * 100_000)
    assert types.is_language_tag("en-a-bbbbbbbb-" + "-".join(["cccccccc"] * 10))
    assert types._well_formed_tag.cache_info().currsize == before
