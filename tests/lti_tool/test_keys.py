"""Test the tool's keyring: generation, file modes, JWKS contents, rotation with overlap and retention."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import jwt
import pytest

from lti_tool.keys import KeyRing, KeyringError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def _ring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "keys", overlap=dt.timedelta(hours=1), retention=dt.timedelta(hours=2))


def test_keyring_ensure_creates_one_private_key_owner_only(tmp_path: Path) -> None:
    """Create one key pair on first start, its private file mode 0600, and reuse it afterwards."""
    ring = _ring(tmp_path)
    first = ring.ensure()
    assert ring.ensure().kid == first.kid
    pem = tmp_path / "keys" / f"lti-{first.kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert len(ring.entries()) == 1


def test_keyring_jwks_shows_public_parts_only(tmp_path: Path) -> None:
    """Publish RS256 signing JWKs with kid, n and e, and none of the private members (RFC 7518 §6.3.2)."""
    ring = _ring(tmp_path)
    ring.ensure()
    ring.rotate()
    jwks = ring.jwks()
    assert len(jwks["keys"]) == 2
    for key in jwks["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
        assert not PRIVATE_MEMBERS & set(key)
    assert "PRIVATE" not in json.dumps(jwks)


def test_keyring_rotate_publishes_at_once_and_signs_after_overlap(tmp_path: Path) -> None:
    """Show a new key in the JWKS at once, sign with it only after the overlap, drop the old after retention."""
    ring = _ring(tmp_path)
    old = ring.ensure()
    start = dt.datetime.now(dt.UTC)
    new = ring.rotate(now=start)
    assert {k.kid for k in ring.published(start)} == {old.kid, new.kid}
    assert ring.signing_key(start).kid == old.kid
    after_overlap = start + dt.timedelta(hours=1, seconds=1)
    assert ring.signing_key(after_overlap).kid == new.kid
    assert {k.kid for k in ring.published(after_overlap)} == {old.kid, new.kid}
    late = start + dt.timedelta(hours=3, seconds=2)
    assert [k.kid for k in ring.published(late)] == [new.kid]
    assert ring.prune(late) == [old.kid]
    assert not (tmp_path / "keys" / f"lti-{old.kid}.pem").exists()


def test_keyring_token_signed_before_and_after_rotation_verify(tmp_path: Path) -> None:
    """Verify tokens signed by the old and the new key against the published JWKS."""
    ring = _ring(tmp_path)
    ring.ensure()
    start = dt.datetime.now(dt.UTC)
    before = ring.signing_key(start)
    ring.rotate(now=start, overlap=dt.timedelta(0))
    after = ring.signing_key()
    assert before.kid != after.kid
    jwks = {k["kid"]: k for k in ring.jwks()["keys"]}
    for key in (before, after):
        token = jwt.encode({"sub": "x"}, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
        public = jwt.PyJWK(jwks[key.kid]).key
        assert jwt.decode(token, public, algorithms=["RS256"])["sub"] == "x"


def test_keyring_second_instance_sees_rotation(tmp_path: Path) -> None:
    """Let another worker's keyring see a rotation made elsewhere."""
    one, two = _ring(tmp_path), _ring(tmp_path)
    one.ensure()
    assert len(two.jwks()["keys"]) == 1
    one.rotate()
    assert len(two.jwks()["keys"]) == 2


def test_keyring_missing_private_key_is_a_clear_error(tmp_path: Path) -> None:
    """Name the unreadable key file and the fix instead of failing obscurely."""
    ring = _ring(tmp_path)
    info = ring.ensure()
    (tmp_path / "keys" / f"lti-{info.kid}.pem").unlink()
    with pytest.raises(KeyringError, match="keys rotate"):
        _ring(tmp_path).signing_key()


def test_keyring_signing_key_repr_hides_private_pem(tmp_path: Path) -> None:
    """Keep the private key out of reprs that may reach logs."""
    ring = _ring(tmp_path)
    ring.ensure()
    assert "PRIVATE" not in repr(ring.signing_key())
