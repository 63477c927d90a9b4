"""Test the pure xAPI rules: equivalence, query parsing, formats, keys and multipart parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from lrs.errors import BadRequest
from lrs.xapi import attachments, formats, query
from lrs.xapi.equivalence import equivalent
from lrs.xapi.statements import KEY_ACTIVITY_RELATED, KEY_AGENT, KEY_AGENT_RELATED, agent_key, prepare, statement_keys
from tests.lrs.xapi.helpers import statement


def test_equivalence_ignores_lrs_properties_display_definitions_and_case() -> None:
    """Ignore id, authority, stored, timestamp, version, attachments, display, definitions, case (Data 2.3.1)."""
    first = statement(id="AAAAAAAA-0000-4000-8000-000000000000", timestamp="2024-01-01T00:00:00Z")
    second = statement(
        verb={"id": first["verb"]["id"], "display": {"fr": "terminé"}},
        object={"id": first["object"]["id"]},
        stored="2025-01-01T00:00:00Z",
        version="1.0.0",
        authority={"mbox": "mailto:someone@example.com"},
    )
    second["actor"] = {**first["actor"], "mbox": first["actor"]["mbox"].upper()}
    assert equivalent(first, second)


def test_equivalence_group_member_order_and_duration_precision() -> None:
    """Ignore Group member order and Duration precision beyond 0.01 s (Data 2.3.1; IEEE 9274.1.1 4.2.7 Duration)."""
    members = [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}]
    first = statement(actor={"objectType": "Group", "member": members}, result={"duration": "PT1.2345S"})
    second = statement(actor={"objectType": "Group", "member": members[::-1]}, result={"duration": "PT1.23S"})
    assert equivalent(first, second)


@pytest.mark.parametrize(
    "change",
    [
        {"verb": {"id": "http://example.com/other"}},
        {"result": {"success": False}},
        {"context": {"registration": "6fbd600f-d17c-4c74-801a-2ec2e53231f6"}},
        {"actor": {"mbox": "mailto:other@example.com"}},
    ],
)
def test_equivalence_detects_real_differences(change: dict[str, object]) -> None:
    """Treat a different actor, verb, object, result or context as a different statement (Data 2.3.1)."""
    assert not equivalent(statement(result={"success": True}), statement(result={"success": True}) | change)


def test_query_parse_all_parameters() -> None:
    """Parse every Statement GET parameter into typed values (Communication 2.1.3 table)."""
    parsed = query.parse_params(
        [
            ("agent", '{"mbox": "mailto:a@example.com"}'),
            ("verb", "http://example.com/v"),
            ("activity", "http://example.com/a"),
            ("registration", "6FBD600F-D17C-4C74-801A-2EC2E53231F6"),
            ("related_activities", "true"),
            ("related_agents", "false"),
            ("since", "2024-01-01T00:00:00Z"),
            ("until", "2024-02-01T00:00:00+08:00"),
            ("limit", "5"),
            ("format", "ids"),
            ("attachments", "false"),
            ("ascending", "true"),
        ],
        max_limit=100,
    )
    assert isinstance(parsed, query.StatementQuery)
    assert parsed.agent == "mbox:mailto:a@example.com"
    assert parsed.registration == "6fbd600f-d17c-4c74-801a-2ec2e53231f6"
    assert parsed.related_activities and not parsed.related_agents and parsed.ascending
    assert parsed.until == dt.datetime(2024, 1, 31, 16, 0, tzinfo=dt.UTC)
    assert parsed.limit == 5 and parsed.format == "ids"


@pytest.mark.parametrize(("given", "expected"), [("0", 100), ("1000", 100), ("7", 7)])
def test_query_limit_zero_or_above_maximum_means_maximum(given: str, expected: int) -> None:
    """Use the server maximum for limit 0 and cap larger limits (Communication 2.1.3 limit)."""
    parsed = query.parse_params([("limit", given)], max_limit=100)
    assert isinstance(parsed, query.StatementQuery) and parsed.limit == expected


def test_query_repeated_parameter_rejected() -> None:
    """Reject a parameter given twice rather than guess which one counts."""
    with pytest.raises(BadRequest, match="more than once"):
        query.parse_params([("verb", "http://e.com/a"), ("verb", "http://e.com/b")], max_limit=10)


def test_query_more_token_round_trips() -> None:
    """Encode the query and its cursor into `more` and decode the same query back."""
    original = query.StatementQuery(verb="http://e.com/v", since=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), limit=3)
    page = original.next_page(42, None)
    decoded = query.decode_more(query.encode_more(page))
    assert decoded == page


def test_formats_ids_keeps_anonymous_group_members_identifiers() -> None:
    """Keep the identifiers of an anonymous Group's members in `ids` format (Communication 2.1.3 format)."""
    stmt = statement(actor={"objectType": "Group", "name": "Team", "member": [{"name": "A", "mbox": "mailto:a@example.com"}]})
    assert formats.to_ids(stmt)["actor"] == {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}


@pytest.mark.parametrize(
    ("languages", "expected"),
    [(["zh-TW"], {"zh-TW": "完成"}), (["zh"], {"zh-TW": "完成"}), (["fr", "en-GB"], {"en-US": "done"}), ([], {"en-US": "done"})],
)
def test_formats_pick_language_by_preference(languages: list[str], expected: dict[str, str]) -> None:
    """Keep the one entry that best matches Accept-Language (Communication 2.1.3 canonical)."""
    assert formats.pick_language({"en-US": "done", "zh-TW": "完成"}, languages) == expected


def test_statement_keys_cover_related_agents_and_activities() -> None:
    """Index actor, object agent, instructor, team and context activities for the filters (Communication 2.1.3)."""
    stmt = prepare(
        statement(
            object={"objectType": "Agent", "mbox": "mailto:obj@example.com"},
            context={
                "instructor": {"mbox": "mailto:teacher@example.com"},
                "team": {"objectType": "Group", "member": [{"mbox": "mailto:mate@example.com"}]},
                "contextActivities": {"parent": {"id": "http://example.com/course"}},
            },
        ),
        stored=dt.datetime.now(dt.UTC),
        authority={"mbox": "mailto:lrs@example.com"},
        version="1.0.3",
    )
    keys = statement_keys(stmt).keys
    assert (KEY_AGENT, "mbox:mailto:obj@example.com") in keys
    assert (KEY_AGENT, "mbox:mailto:teacher@example.com") not in keys
    for who in ("teacher", "mate", "obj", "learner"):
        assert (KEY_AGENT_RELATED, f"mbox:mailto:{who}@example.com") in keys
    assert (KEY_AGENT_RELATED, "mbox:mailto:lrs@example.com") in keys
    assert (KEY_ACTIVITY_RELATED, "http://example.com/course") in keys


def test_agent_key_account_and_sha1() -> None:
    """Name Agents by one inverse functional identifier (Data 2.4.2.3)."""
    assert agent_key({"account": {"homePage": "https://lms.example.com", "name": "u1"}}) == "account:https://lms.example.com|u1"
    assert agent_key({"mbox_sha1sum": "A" * 40}) == "mbox_sha1sum:" + "a" * 40
    assert agent_key({"objectType": "Group", "member": []}) is None


def test_multipart_parse_round_trip() -> None:
    """Parse what build_multipart writes: the JSON part, then each attachment with its hash (Communication 1.5.2)."""
    data = attachments.AttachmentData(attachments.sha2_of(b"hello", 64), "text/plain", b"hello")
    body, content_type = attachments.build_multipart(b'{"a": 1}', [data])
    boundary = content_type.split("boundary=")[1]
    parts = attachments.parse_multipart(body, boundary)
    assert parts[0].content_type == "application/json" and parts[0].body == b'{"a": 1}'
    assert attachments.collect_attachment_parts(parts) == {data.sha2: data}


def test_multipart_without_closing_boundary_rejected() -> None:
    """Reject a multipart body that is cut off before its closing boundary (RFC 2046 5.1.1)."""
    with pytest.raises(BadRequest, match="closing boundary"):
        attachments.parse_multipart(b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\nContent-Type: text/plain\r\n\r\nx", "b")


@pytest.mark.parametrize(
    "fields",
    [{"after": "x", "limit": 5}, {"limit": True}, {"ascending": "yes", "limit": 5}, {"verb": 5, "limit": 5}, {"limit": 0}],
)
def test_query_tampered_more_token_rejected(fields: dict[str, object]) -> None:
    """Refuse a `more` token whose fields do not have the types this LRS writes."""
    import base64

    import orjson

    token = base64.urlsafe_b64encode(orjson.dumps(fields)).decode().rstrip("=")
    with pytest.raises(BadRequest, match="more"):
        query.decode_more(token)
