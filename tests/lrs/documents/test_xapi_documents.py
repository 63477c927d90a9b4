"""Test the pure document rules: agent parameter, IRIs, UUIDs, since, JSON merge and preconditions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lrs.errors import BadRequest, Conflict, PreconditionFailed
from lrs.xapi_documents import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    Preconditions,
    etag_of,
    merge_json,
    parse_agent,
    parse_registration,
    parse_since,
    person_for,
    require_iri,
    require_precondition_for_put,
)


@pytest.mark.parametrize(
    "agent",
    [
        {"mbox": "mailto:a@example.com"},
        {"objectType": "Agent", "mbox_sha1sum": "a" * 40},
        {"openid": "http://openid.example.com/a"},
        {"name": "A", "account": {"homePage": "http://example.com", "name": "a"}},
    ],
)
def test_agent_parse_accepts_each_identifier(agent: dict[str, object]) -> None:
    """Accept an Agent with exactly one inverse functional identifier (Data 2.4.2.1)."""
    parsed = parse_agent(json.dumps(agent))
    assert parsed.key.split("|", 1)[0] in {"mbox", "mbox_sha1sum", "openid", "account"}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not JSON",
        "true",
        "[]",
        json.dumps({"objectType": "Group", "mbox": "mailto:g@example.com"}),
        json.dumps({"name": "no identifier"}),
        json.dumps({"mbox": "mailto:a@example.com", "openid": "http://x.example.com"}),
        json.dumps({"mbox": "a@example.com"}),
        json.dumps({"mbox_sha1sum": "xyz"}),
        json.dumps({"openid": "not an iri"}),
        json.dumps({"account": {"homePage": "http://example.com"}}),
        json.dumps({"account": {"homePage": "nope", "name": "a"}}),
        json.dumps({"mbox": "mailto:a@example.com", "colour": "red"}),
        json.dumps({"mbox": "mailto:a@example.com", "name": 5}),
    ],
)
def test_agent_parse_rejects_malformed(raw: str | None) -> None:
    """Reject a missing, non-JSON, non-Agent or ambiguous agent parameter with 400 (Communication 2.3.s3.table1.row2)."""
    with pytest.raises(BadRequest):
        parse_agent(raw)


def test_agent_key_is_the_same_whatever_the_name() -> None:
    """Key documents by the identifier, not by the optional name (Data 2.4.2.1)."""
    one = parse_agent(json.dumps({"name": "A", "mbox": "mailto:a@example.com"}))
    two = parse_agent(json.dumps({"objectType": "Agent", "mbox": "mailto:a@example.com"}))
    assert one.key == two.key


def test_person_for_unknown_agent_holds_only_the_agent() -> None:
    """Return a Person with the requested agent's information in arrays (Communication 2.4.s3.b3, 2.4.s6.b1)."""
    person = person_for(parse_agent(json.dumps({"name": "A", "mbox": "mailto:a@example.com"})))
    assert person == {"objectType": "Person", "name": ["A"], "mbox": ["mailto:a@example.com"]}


@pytest.mark.parametrize("value", ["1", "true", '{"key": "value"}', "no scheme", "http://has space.example.com"])
def test_activity_id_rejects_non_iri(value: str) -> None:
    """Reject an activityId that is not an IRI (Data 4.3; Communication 2.7.s3.table1.row1)."""
    with pytest.raises(BadRequest):
        require_iri(value, "activityId")


def test_registration_accepts_uuid_and_lowercases() -> None:
    """Accept a UUID registration, compared case-insensitively (Data 4.4)."""
    assert parse_registration("0B1C5F3E-6A3B-4C55-9C5E-2F8D4E3B7A10") == "0b1c5f3e-6a3b-4c55-9c5e-2f8d4e3b7a10"
    assert parse_registration(None) is None


@pytest.mark.parametrize("value", ["true", "", "0b1c5f3e6a3b4c559c5e2f8d4e3b7a10x", "not-a-uuid"])
def test_registration_rejects_non_uuid(value: str) -> None:
    """Reject a registration that is not a UUID with 400 (Communication 2.3.s3.table1.row3)."""
    with pytest.raises(BadRequest):
        parse_registration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-31T08:00:00Z", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
        ("2024-01-31T08:00:00.000Z", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
        ("2024-01-31T16:00:00+08:00", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
        ("2024-01-31T16:00:00 08:00", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
        ("Wed, 31 Jan 2024 08:00:00 GMT", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
    ],
)
def test_since_parses_timestamps(value: str, expected: dt.datetime) -> None:
    """Parse `since` as an ISO 8601 timestamp (Data 4.5), tolerating an unencoded '+'."""
    assert parse_since(value) == expected


def test_since_rejects_non_timestamp() -> None:
    """Reject a `since` that is not a timestamp with 400 (Communication 2.3.s4.table1.row4)."""
    with pytest.raises(BadRequest):
        parse_since("not a timestamp")


def test_merge_replaces_top_level_properties_only() -> None:
    """Merge only top-level properties, replacing each whole (Communication 2.2.s7 example)."""
    merged = merge_json(b'{"x": "foo", "y": "bar", "o": {"a": 1}}', b'{"x": "bash", "z": "faz", "o": {"b": 2}}')
    assert json.loads(merged) == {"x": "bash", "y": "bar", "z": "faz", "o": {"b": 2}}


@pytest.mark.parametrize(("stored", "posted"), [(b"[1]", b"{}"), (b"{}", b"1"), (b"{", b"{}"), (b"{}", b"abc")])
def test_merge_rejects_non_objects(stored: bytes, posted: bytes) -> None:
    """Refuse to merge when either document is not a JSON object (Communication 2.2.s8.b1)."""
    with pytest.raises(BadRequest):
        merge_json(stored, posted)


def test_etag_is_lowercase_sha1_hex() -> None:
    """Compute the ETag as the lowercase hex SHA-1 of the contents (Communication 3.1.s4.b2)."""
    assert etag_of(b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_preconditions_if_match() -> None:
    """Pass If-Match only on the current ETag, quoted, weak or in a list (Communication 3.1.s4.b5)."""
    Preconditions(if_match='"abc"').check("abc")
    Preconditions(if_match='W/"abc", "def"').check("def")
    Preconditions(if_match="*").check("abc")
    for header, current in (('"abc"', "def"), ("*", None), ('"abc"', None), ("1234", "abc")):
        with pytest.raises(PreconditionFailed):
            Preconditions(if_match=header).check(current)


def test_preconditions_if_none_match_star() -> None:
    """Fail If-None-Match "*" when a document exists (Communication 3.1.s4.b6)."""
    Preconditions(if_none_match="*").check(None)
    with pytest.raises(PreconditionFailed):
        Preconditions(if_none_match="*").check("abc")


@pytest.mark.parametrize("kind", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_put_without_headers_over_existing_profile_conflicts(kind: str) -> None:
    """Answer 409 to a headerless PUT over an existing profile document (Communication 3.1.s4.b13)."""
    for v2 in (False, True):
        with pytest.raises(Conflict) as err:
            require_precondition_for_put(kind, Preconditions(), exists=True, v2=v2)
        assert "If-Match" in err.value.message
        require_precondition_for_put(kind, Preconditions(if_match='"x"'), exists=True, v2=v2)
        require_precondition_for_put(kind, Preconditions(if_none_match="*"), exists=False, v2=v2)


@pytest.mark.parametrize("kind", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_put_without_headers_creating_a_profile_is_refused(kind: str) -> None:
    """Refuse a headerless PUT creating a profile with 400 in both versions, unless the operator allows it.

    xAPI 1.0.3 Communication 3.1.s3.b1: a Client making a PUT request to either the Activity Profile
    or Agent Profile Resource "MUST include the If-Match header or the If-None-Match header"; ADL's
    suite expects 400 (XAPI-00273, XAPI-00287; 1.0.3 files and the 2.0.0 folder's H.Communication2.6).
    """
    for v2 in (False, True):
        with pytest.raises(BadRequest) as err:
            require_precondition_for_put(kind, Preconditions(), exists=False, v2=v2)
        assert "If-None-Match: *" in err.value.message
        require_precondition_for_put(kind, Preconditions(), exists=False, v2=v2, unconditional_create=True)
        with pytest.raises(Conflict):
            require_precondition_for_put(kind, Preconditions(), exists=True, v2=v2, unconditional_create=True)


def test_put_without_headers_over_existing_state_is_allowed_in_1_0_3_only() -> None:
    """Let State take PUT without concurrency headers in 1.0.3 (Communication 3.1.s3), not in 2.0.0 (3.1)."""
    require_precondition_for_put(STATE, Preconditions(), exists=True, v2=False)
    with pytest.raises(Conflict):
        require_precondition_for_put(STATE, Preconditions(), exists=True, v2=True)
    require_precondition_for_put(STATE, Preconditions(), exists=False, v2=True)


def test_agent_parse_takes_identified_group_for_documents_only() -> None:
    """Take an Identified Group where documents allow it (xAPI 2.0.0 State/Agent Profile), keyed by its identifier."""
    group = json.dumps({"objectType": "Group", "name": "Cohort", "mbox": "mailto:cohort@example.com", "member": []})
    parsed = parse_agent(group, allow_group=True)
    assert parsed.key == parse_agent(json.dumps({"mbox": "mailto:cohort@example.com"})).key
    with pytest.raises(BadRequest):
        parse_agent(group)
    for anonymous in ({"objectType": "Group", "member": []}, {"objectType": "Group", "mbox": "mailto:c@example.com", "member": {}}):
        with pytest.raises(BadRequest):
            parse_agent(json.dumps(anonymous), allow_group=True)


def test_agent_key_of_mbox_sha1sum_ignores_case() -> None:
    """Key an mbox_sha1sum case-insensitively: it is hexadecimal (Data 2.4.2.3)."""
    upper = parse_agent(json.dumps({"mbox_sha1sum": "A" * 40}))
    lower = parse_agent(json.dumps({"mbox_sha1sum": "a" * 40}))
    assert upper.key == lower.key
