"""Test the bounded outgoing requests: refused addresses, size and time limits, pylti1p3's service session."""

from __future__ import annotations

import pytest

from lti_tool.lti import outbound
from tests.lti_tool.lti.conftest import TestPlatform

STRICT = outbound.Limits(timeout=1.0, max_bytes=1024 * 1024, allow_private=False)
OPEN = outbound.Limits(timeout=1.0, max_bytes=1024 * 1024, allow_private=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest",
                                 "ftp://example.org/x", "http:///nohost"])
def test_outbound_refuses_internal_or_odd_urls(url: str) -> None:
    """Refuse loopback, private, link-local and non-http URLs unless ALLOW_PRIVATE_OUTBOUND is on."""
    with pytest.raises(outbound.AddressRefused):
        outbound.fetch_json(url, STRICT)


def test_outbound_fetch_json_reads_bounded_answer(platform: TestPlatform) -> None:
    """Fetch a JSON object within the limits, and refuse one larger than allowed."""
    answer = outbound.fetch_json(platform.issuer + "/jwks", OPEN)
    assert answer.status == 200 and answer.body["keys"]
    with pytest.raises(outbound.TooLarge):
        outbound.fetch_json(platform.issuer + "/jwks-huge", OPEN)


def test_outbound_fetch_json_times_out(platform: TestPlatform) -> None:
    """Give up on a server slower than the timeout."""
    with pytest.raises(outbound.TimedOut):
        outbound.fetch_json(platform.issuer + "/jwks-slow", outbound.Limits(0.3, 1024, True))


def test_outbound_bounded_session_refuses_and_times_out(platform: TestPlatform) -> None:
    """Give pylti1p3's AGS/NRPS calls the same address check and a default timeout."""
    session = outbound.BoundedSession(STRICT)
    with pytest.raises(outbound.AddressRefused):
        session.get(platform.issuer + "/jwks")
    open_session = outbound.BoundedSession(outbound.Limits(0.3, 1024, True))
    assert open_session.get(platform.issuer + "/jwks").status_code == 200
    import requests

    with pytest.raises(requests.Timeout):
        open_session.get(platform.issuer + "/jwks-slow")
    session.close()
    open_session.close()


def test_outbound_refuses_a_private_peer_after_a_public_lookup(platform: TestPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Security (DNS rebinding): a name that looked public when checked but connects to 127.0.0.1 gets no request.

    The first look-up is made to pass (as a rebinding name's would); the address actually connected
    to is checked again, so neither fetch_json (JWKS, registration) nor pylti1p3's session sends anything.
    """
    monkeypatch.setattr(outbound, "check_url", lambda url, allow_private: None)
    before = platform.jwks_requests
    with pytest.raises(outbound.AddressRefused, match=r"connected to the non-public address 127\.0\.0\.1"):
        outbound.fetch_json(platform.issuer + "/jwks", STRICT)
    session = outbound.BoundedSession(STRICT)
    with pytest.raises(outbound.AddressRefused, match="non-public address"):
        session.get(platform.issuer + "/jwks")
    session.close()
    assert platform.jwks_requests == before  # the platform never saw a request
    assert outbound.fetch_json(platform.issuer + "/jwks", OPEN).status == 200  # allowed when internal addresses are on
    assert platform.jwks_requests == before + 1
