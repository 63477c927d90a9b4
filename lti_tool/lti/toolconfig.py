"""Describe the tool to platforms: the manual configuration and the Dynamic Registration request.

The same facts feed `/lti/config` (what an LMS administrator pastes into the LMS) and the client
registration request of LTI Dynamic Registration 1.0 §3.3-§3.4 (OpenID Connect Dynamic Client
Registration metadata plus the `https://purl.imsglobal.org/spec/lti-tool-configuration` object).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from lrs.app import get_settings
from lti_tool.lti.claims import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

NAME_EN = "International Learning Bridge"
NAME_ZH = "國際學習橋接平臺"
DESCRIPTION_EN = "International courses (MOOCs, talks, foreign institutions' courses) with certified lifelong-learning hours."
DESCRIPTION_ZH = "國際數位課程（MOOCs、演講、外國機構課程），完成後認證終身學習時數。"
PICK_LABEL_EN = "Add international courses"
PICK_LABEL_ZH = "加入國際課程"

# LTI Advantage scopes: Assignment and Grade Services 2.0 §3.1, Names and Role Provisioning 2.0 §2.
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "locale")
CUSTOM_PARAMETERS = {"lms_username": "$User.username", "lms_context_title": "$Context.title"}


def urls() -> dict[str, str]:
    """Return the tool's endpoint URLs under its public base URL."""
    base = get_settings(current_app).public_base_url
    return {
        "base": base,
        "login": base + "/lti/login",
        "launch": base + "/lti/launch",
        "jwks": base + "/lti/jwks",
        "jwks_well_known": base + "/.well-known/jwks.json",
        "register": base + "/lti/register",
        "config": base + "/lti/config",
    }


def messages(target: str) -> list[dict[str, Any]]:
    """Return the LTI messages the tool handles (Dynamic Registration §3.3.2 message objects)."""
    return [
        {"type": RESOURCE_LINK_REQUEST, "target_link_uri": target, "label": NAME_EN,
         "label#en": NAME_EN, "label#zh-TW": NAME_ZH},
        {"type": DEEP_LINKING_REQUEST, "target_link_uri": target, "label": PICK_LABEL_EN,
         "label#en": PICK_LABEL_EN, "label#zh-TW": PICK_LABEL_ZH,
         "placements": ["ContentArea"], "supported_types": ["ltiResourceLink"]},
    ]


def manual_config() -> dict[str, Any]:
    """Return everything an LMS administrator enters for a manual registration."""
    u = urls()
    return {
        "title": NAME_EN, "title#zh-TW": NAME_ZH,
        "description": DESCRIPTION_EN, "description#zh-TW": DESCRIPTION_ZH,
        "domain": urlsplit(u["base"]).netloc,
        "oidc_initiation_url": u["login"],
        "target_link_uri": u["launch"],
        "redirect_uris": [u["launch"]],
        "deep_linking_url": u["launch"],
        "public_jwk_url": u["jwks"],
        "jwks_urls": [u["jwks"], u["jwks_well_known"]],
        "dynamic_registration_url": u["register"],
        "signature_algorithm": "RS256",
        "scopes": list(SCOPES),
        "claims": list(CLAIMS),
        "custom_parameters": dict(CUSTOM_PARAMETERS),
        "messages": messages(u["launch"]),
        "cookie_free": "LTI Client Side postMessages (lti_storage_target) supported",
        # Canvas pastes this JSON as a developer key; these two fields are its names for the same facts.
        "custom_fields": dict(CUSTOM_PARAMETERS),
        "extensions": [{
            "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {"placements": [
                {"placement": placement, "message_type": DEEP_LINKING_REQUEST, "target_link_uri": u["launch"]}
                for placement in ("link_selection", "assignment_selection")
            ]},
        }],
    }


# Placements the tool wants for course staff picking courses, in the vocabularies platforms use
# (Moodle's ContentArea; Canvas's selection placements). Only those a platform lists are asked for.
DEEP_LINKING_PLACEMENTS = ("ContentArea", "link_selection", "assignment_selection", "module_index_menu_modal")
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"


def _platform_placements(platform_config: dict[str, Any], message_type: str) -> list[str] | None:
    """Return the wanted placements a platform supports for a message type, or None when it lists none."""
    platform = platform_config.get(PLATFORM_CONFIGURATION)
    supported = platform.get("messages_supported") if isinstance(platform, dict) else None
    for message in supported if isinstance(supported, list) else []:
        if isinstance(message, dict) and message.get("type") == message_type:
            offered = message.get("placements")
            if isinstance(offered, list):
                return [p for p in DEEP_LINKING_PLACEMENTS if p in offered]
    return None


def registration_request(platform_config: dict[str, Any]) -> dict[str, Any]:
    """Build the client registration request for a platform (LTI Dynamic Registration 1.0 §3.4)."""
    u = urls()
    supported = platform_config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(supported, list) or s in supported]
    registered_messages = messages(u["launch"])
    for message in registered_messages:
        # §3.3.2: placements are the platform's vocabulary; ask only for ones it declared, or none at all.
        message.pop("placements", None)
        if message["type"] == DEEP_LINKING_REQUEST:
            placements = _platform_placements(platform_config, DEEP_LINKING_REQUEST)
            if placements:
                message["placements"] = placements
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": u["login"],
        "redirect_uris": [u["launch"]],
        "client_name": NAME_EN,
        "client_name#en": NAME_EN,
        "client_name#zh-TW": NAME_ZH,
        "jwks_uri": u["jwks"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(u["base"]).netloc,
            "target_link_uri": u["launch"],
            "description": DESCRIPTION_EN,
            "description#zh-TW": DESCRIPTION_ZH,
            "custom_parameters": dict(CUSTOM_PARAMETERS),
            "claims": list(CLAIMS),
            "messages": registered_messages,
            CANVAS_PRIVACY_LEVEL: "public",  # Canvas shares name and email only when asked; others ignore it
        },
    }
