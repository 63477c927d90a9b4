"""Sign the tokens that carry a learner's or instructor's access to player pages inside the LMS iframe.

Browsers block third-party cookies in LMS iframes, so after a launch the player's pages carry a
signed, expiring token in their URL (and heartbeats a per-tab token) instead of a session cookie.
The token names the enrollment and what its holder may do; as it never lives in a cookie, it also
serves as the forms' CSRF defence: another site cannot know it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lrs.errors import Forbidden

PLAYER_SALT = "learning.player.v1"
TAB_SALT = "learning.tab.v1"
DEFAULT_TOKEN_HOURS = 12


@dataclass(frozen=True)
class PlayerAccess:
    """What a player token grants: an enrollment, as learner or instructor (who also sees the overview)."""

    enrollment_id: int
    role: str


@dataclass(frozen=True)
class TabAccess:
    """What a heartbeat token names: an enrollment and one opened player page."""

    enrollment_id: int
    tab: str


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _max_age() -> int:
    return int(float(current_app.config.get("LEARNING_TOKEN_HOURS", DEFAULT_TOKEN_HOURS)) * 3600)


def _load(salt: str, token: str) -> Any:
    try:
        return _serializer(salt).loads(token, max_age=_max_age())
    except SignatureExpired:
        raise Forbidden("This page has been open too long; launch the course again from your LMS.") from None
    except BadSignature:
        raise Forbidden("This link is not valid; launch the course again from your LMS.") from None


def player_token(enrollment_id: int, role: str = "learner") -> str:
    """Sign a token giving access to an enrollment's player pages."""
    return str(_serializer(PLAYER_SALT).dumps({"e": enrollment_id, "r": role}))


def read_player_token(token: str) -> PlayerAccess:
    """Check a player token and return what it grants, or raise Forbidden."""
    data = _load(PLAYER_SALT, token)
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data.get("r") not in {"learner", "instructor"}:
        raise Forbidden("This link is not valid; launch the course again from your LMS.")
    return PlayerAccess(data["e"], data["r"])


def tab_token(enrollment_id: int, tab: str) -> str:
    """Sign the token a player page sends with each heartbeat."""
    return str(_serializer(TAB_SALT).dumps({"e": enrollment_id, "t": tab}))


def read_tab_token(token: str) -> TabAccess:
    """Check a heartbeat token (forged or altered ones are refused) and return what it names."""
    data = _load(TAB_SALT, token)
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not isinstance(data.get("t"), str):
        raise Forbidden("This heartbeat is not valid; reload the course page.")
    return TabAccess(data["e"], data["t"])
