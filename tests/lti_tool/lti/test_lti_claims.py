"""Test the pure mapping of verified claims to the launch context: roles, names, locale, custom parameters."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti.claims import LaunchContext, ToolRole, context_from_claims, map_role

V = "http://purl.imsglobal.org/vocab/lis/v2/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@pytest.mark.parametrize(("roles", "expected"), [
    ([], ToolRole.LEARNER),
    ([V + "membership#Learner"], ToolRole.LEARNER),
    ([V + "membership#Mentor"], ToolRole.LEARNER),
    ([V + "membership#Instructor"], ToolRole.INSTRUCTOR),
    ([V + "membership#ContentDeveloper"], ToolRole.INSTRUCTOR),
    ([V + "membership/Instructor#TeachingAssistant"], ToolRole.INSTRUCTOR),
    (["Instructor"], ToolRole.INSTRUCTOR),
    ([V + "institution/person#Instructor"], ToolRole.LEARNER),
    ([V + "membership#Learner", V + "system/person#Administrator"], ToolRole.ADMINISTRATOR),
    ([V + "institution/person#Administrator", V + "membership#Instructor"], ToolRole.ADMINISTRATOR),
    ([V + "membership#Administrator"], ToolRole.ADMINISTRATOR),
    (["http://example.org/roles#Whatever"], ToolRole.LEARNER),
])
def test_claims_map_role_follows_lti_role_vocabularies(roles: list[str], expected: ToolRole) -> None:
    """Map context, institution and system roles (LTI Core 1.3 Appendix A.2) to learner, instructor, administrator."""
    assert map_role(roles) is expected


def _claims(**extra: Any) -> dict[str, Any]:
    return {"iss": "https://lms.example", "sub": "u1", LTI + "deployment_id": "d1",
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "roles": [V + "membership#Learner"], **extra}


def test_claims_context_reads_who_where_and_custom() -> None:
    """Keep who launched, from which course and link, with custom parameters and the launch locale."""
    context = context_from_claims(_claims(**{
        "given_name": "小明", "family_name": "林", "email": "lin@example.gov.tw",
        LTI + "context": {"id": "c1", "title": "國際視野", "label": "IV"},
        LTI + "resource_link": {"id": "r1", "title": "TED"},
        LTI + "custom": {"catalog_course": "TED-1", "n": 3},
        LTI + "launch_presentation": {"locale": "en-GB", "return_url": "https://lms.example/back"},
    }), registration_id=7, platform_name="LMS", client_id="cid")
    assert context.display_name == "小明 林"
    assert (context.context_title, context.resource_link_id, context.catalog_course) == ("國際視野", "r1", "TED-1")
    assert context.custom["n"] == "3" and context.locale == "en-GB" and context.return_url == "https://lms.example/back"
    assert context.role is ToolRole.LEARNER and not context.is_deep_linking


def test_claims_context_survives_json_roundtrip_and_odd_types() -> None:
    """Rebuild the same context from its JSON form, and ignore claims of the wrong type."""
    context = context_from_claims(_claims(name=5, **{LTI + "context": "not-an-object"}), registration_id=1,
                                  platform_name="LMS", client_id="cid", session_id="s")
    assert context.name == "" and context.context_id == "" and context.display_name == "u1"
    assert LaunchContext.from_json(context.to_json()) == context
