"""Answer a Deep Linking request with the catalog courses course staff picked (LTI Deep Linking 2.0).

`content_item` turns a catalog course into an `ltiResourceLink` (DL 2.0 §3.1: title, text, icon,
url, custom parameters naming the course with the tool's signature, a `lineItem` when the platform
accepts line items, and a presentation target the platform accepts); `response_jwt` signs the
`LtiDeepLinkingResponse` (§4.2) with the tool's current key, echoing the request's `data`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_tool.learning.ags import LINE_ITEM_TAG, SCORE_MAXIMUM

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SETTINGS_CLAIM = DL + "deep_linking_settings"
RESOURCE_LINK_TYPE = "ltiResourceLink"


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The platform's deep-linking settings claim (DL 2.0 §4.4.1)."""

    return_url: str
    accept_types: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    accept_multiple: bool = False
    accept_lineitem: bool = False
    data: str | None = None
    title: str = ""
    text: str = ""

    @property
    def accepts_links(self) -> bool:
        """Tell whether the platform takes LTI resource links at all."""
        return RESOURCE_LINK_TYPE in self.accept_types


def settings_from_claims(claims: dict[str, Any]) -> DeepLinkingSettings:
    """Read the deep-linking settings from a verified launch's claims."""
    raw = claims.get(SETTINGS_CLAIM)
    if not isinstance(raw, dict) or not isinstance(raw.get("deep_link_return_url"), str):
        from lrs.errors import BadRequest

        raise BadRequest("This deep-linking launch has no deep_link_return_url (LTI Deep Linking 2.0 §4.4.1).")

    def strings(name: str) -> tuple[str, ...]:
        value = raw.get(name)
        return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    data = raw.get("data")
    return DeepLinkingSettings(
        return_url=raw["deep_link_return_url"],
        accept_types=strings("accept_types"),
        targets=strings("accept_presentation_document_targets"),
        accept_multiple=raw.get("accept_multiple") is True,
        accept_lineitem=raw.get("accept_lineitem") is True,
        data=data if isinstance(data, str) else None,
        title=str(raw.get("title") or "")[:255],
        text=str(raw.get("text") or "")[:1000],
    )


@dataclass(frozen=True)
class PickedCourse:
    """A catalog course as the picker offers it."""

    code: str
    title: str
    text: str
    hours: str
    signature: str
    icon_url: str = ""
    extra_custom: dict[str, str] = field(default_factory=dict)


def content_item(course: PickedCourse, settings: DeepLinkingSettings, launch_url: str) -> dict[str, Any]:
    """Build one `ltiResourceLink` content item (DL 2.0 §3.1) for a picked course."""
    item: dict[str, Any] = {
        "type": RESOURCE_LINK_TYPE,
        "title": course.title[:255],
        "text": course.text[:1000],
        "url": launch_url,
        "custom": {"catalog_course": course.code, "catalog_course_sig": course.signature, **course.extra_custom},
    }
    if course.icon_url:
        item["icon"] = {"url": course.icon_url, "width": 64, "height": 64}
    if settings.accept_lineitem:
        item["lineItem"] = {
            "scoreMaximum": SCORE_MAXIMUM,
            "label": course.title[:255],
            "resourceId": course.code,
            "tag": LINE_ITEM_TAG,
        }
    # DL 2.0 §3.1: present the link in a target the platform accepts.
    if "iframe" in settings.targets or not settings.targets:
        item["iframe"] = {"width": 1000, "height": 800}
    elif "window" in settings.targets:
        item["window"] = {"targetName": "_blank"}
    return item


def response_claims(
    *, issuer: str, client_id: str, deployment_id: str, settings: DeepLinkingSettings,
    items: list[dict[str, Any]], message: str = "", now: int | None = None,
) -> dict[str, Any]:
    """Build the LtiDeepLinkingResponse claims (DL 2.0 §4.2): the tool is `iss`, the platform `aud`."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "azp": client_id,
        "iat": issued,
        "exp": issued + 600,
        "nonce": secrets.token_urlsafe(16),
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": deployment_id,
        DL + "content_items": items,
    }
    if settings.data is not None:
        claims[DL + "data"] = settings.data
    if message:
        claims[DL + "msg"] = message[:500]
    return claims


def response_jwt(claims: dict[str, Any], private_pem: str, kid: str) -> str:
    """Sign the response with RS256 and the tool's key id (LTI Security Framework 1.0 §5.2)."""
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})
