"""Name every way an LTI login, launch or registration can be refused, each with its HTTP status.

Messages speak to the LMS administrator or the person launching: what is wrong and what to do.
They never contain tokens, keys or state values.
"""

from __future__ import annotations

from lrs.errors import BadGateway, BadRequest, Forbidden, GatewayTimeout, Unauthorized


class LaunchBadRequest(BadRequest):
    """The login or launch request is malformed or incomplete."""

    code = "lti_bad_request"


class LaunchStateError(BadRequest):
    """The launch's state is missing, unknown, expired, used, or not this browser's."""

    code = "lti_state_invalid"


class TokenRejected(Unauthorized):
    """The id_token fails verification (signature, algorithm, time, audience, nonce)."""

    code = "lti_token_rejected"


class PlatformNotRegistered(Forbidden):
    """The issuer, client id or deployment is not registered or not active."""

    code = "lti_not_registered"


class PlatformUnreachable(BadGateway):
    """The platform could not be reached or answered with an error."""

    code = "lti_platform_unreachable"


class PlatformTimeout(GatewayTimeout):
    """The platform did not answer in time."""

    code = "lti_platform_timeout"


class PlatformAnswerInvalid(BadRequest):
    """The platform answered with something unusable (too large, not JSON, wrong shape)."""

    code = "lti_platform_answer_invalid"


class CookieBlocked(LaunchStateError):
    """The browser did not send the state cookie, and the platform offered no storage."""

    code = "lti_cookie_blocked"

    def __init__(self, message: str, login_params: dict[str, str]) -> None:
        super().__init__(message)
        self.login_params = login_params
