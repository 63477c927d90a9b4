"""Turn a verified id_token's claims into the tool's launch context (pure: no Flask, no database).

Claim names are those of LTI Core 1.3 §5.3-§5.4; roles map per LTI Core 1.3 Appendix A.2 to the
three roles the tool knows: learner, instructor, administrator.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

# The custom parameter that names the catalog course a resource link opens.
CATALOG_COURSE_PARAM = "catalog_course"


class ToolRole(enum.StrEnum):
    """What the person may do in the tool."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMINISTRATOR = "administrator"


# LTI Core 1.3 Appendix A.2: system, institution and context role vocabularies.
_ADMIN_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
}
_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTRUCTOR_SUBROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#"
_INSTRUCTOR_CONTEXT_ROLES = {"Instructor", "ContentDeveloper", "TeachingAssistant"}


def map_role(roles: list[str]) -> ToolRole:
    """Map LTI role URIs to the tool's role: administrator over instructor over learner."""
    if any(role in _ADMIN_ROLES or role == "Administrator" for role in roles):
        return ToolRole.ADMINISTRATOR
    for role in roles:
        if role.startswith(_INSTRUCTOR_SUBROLE_PREFIX):
            return ToolRole.INSTRUCTOR
        # Context roles come as full URIs or, from older platforms, as simple names (Core §A.2.3.1).
        simple = role.removeprefix(_MEMBERSHIP) if role.startswith(_MEMBERSHIP) else role
        if simple in _INSTRUCTOR_CONTEXT_ROLES:
            return ToolRole.INSTRUCTOR
    return ToolRole.LEARNER


def _object(claims: dict[str, Any], name: str) -> dict[str, Any]:
    value = claims.get(name)
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 1000) -> str:
    return value[:limit] if isinstance(value, str) else ""


@dataclass(frozen=True)
class LaunchContext:
    """Who launched, from where, with which role and parameters; kept for the launch session."""

    issuer: str
    client_id: str
    deployment_id: str
    registration_id: int
    platform_name: str
    subject: str
    message_type: str
    role: ToolRole
    roles: list[str] = field(default_factory=list)
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    locale: str = ""
    context_id: str = ""
    context_title: str = ""
    context_label: str = ""
    resource_link_id: str = ""
    resource_link_title: str = ""
    target_link_uri: str = ""
    return_url: str = ""
    document_target: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    has_ags: bool = False
    has_nrps: bool = False
    # Key of the verified claims kept for AGS, NRPS and Deep Linking responses (see launch.message_launch).
    pylti_launch_id: str = ""
    session_id: str = ""

    @property
    def display_name(self) -> str:
        """Return the best name to greet the person with."""
        full = " ".join(part for part in (self.given_name, self.family_name) if part)
        return self.name or full or self.email or self.subject

    @property
    def catalog_course(self) -> str:
        """Return the catalog course the resource link names, or an empty string."""
        return self.custom.get(CATALOG_COURSE_PARAM, "")

    @property
    def is_deep_linking(self) -> bool:
        """Tell whether this is a deep-linking launch."""
        return self.message_type == DEEP_LINKING_REQUEST

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        data = asdict(self)
        data["role"] = self.role.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaunchContext:
        """Rebuild from `to_json`'s form."""
        values = dict(data)
        values["role"] = ToolRole(values["role"])
        return cls(**values)


def context_from_claims(claims: dict[str, Any], *, registration_id: int, platform_name: str, client_id: str,
                        pylti_launch_id: str = "", session_id: str = "") -> LaunchContext:
    """Build the launch context from verified claims."""
    roles = [role for role in claims.get(ROLES, []) if isinstance(role, str)]
    context = _object(claims, CONTEXT)
    link = _object(claims, RESOURCE_LINK)
    presentation = _object(claims, LAUNCH_PRESENTATION)
    custom = {str(k)[:100]: str(v)[:1000] for k, v in list(_object(claims, CUSTOM).items())[:50]}
    platform = _object(claims, TOOL_PLATFORM)
    return LaunchContext(
        issuer=claims["iss"],
        client_id=client_id,
        deployment_id=claims[DEPLOYMENT_ID],
        registration_id=registration_id,
        platform_name=_text(platform.get("name"), 200) or platform_name,
        subject=_text(claims.get("sub"), 255),
        message_type=claims[MESSAGE_TYPE],
        role=map_role(roles),
        roles=roles,
        name=_text(claims.get("name"), 200),
        given_name=_text(claims.get("given_name"), 200),
        family_name=_text(claims.get("family_name"), 200),
        email=_text(claims.get("email"), 254),
        locale=_text(claims.get("locale") or presentation.get("locale"), 35),
        context_id=_text(context.get("id"), 255),
        context_title=_text(context.get("title"), 500),
        context_label=_text(context.get("label"), 200),
        resource_link_id=_text(link.get("id"), 255),
        resource_link_title=_text(link.get("title"), 500),
        target_link_uri=_text(claims.get(TARGET_LINK_URI)),
        return_url=_text(presentation.get("return_url")),
        document_target=_text(presentation.get("document_target"), 20),
        custom=custom,
        has_ags=isinstance(claims.get(AGS_ENDPOINT), dict),
        has_nrps=isinstance(claims.get(NRPS), dict),
        pylti_launch_id=pylti_launch_id,
        session_id=session_id,
    )
