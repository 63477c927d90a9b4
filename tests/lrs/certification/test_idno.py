"""Test national ID validation, masking and encryption at rest (D6)."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from lrs.certification import idno
from tests import support


@pytest.mark.parametrize("number", ["A123456789", "a123456789", "A 1234-56789", "F131104093", "B287975311", "Z111111114"])
def test_idno_classify_valid_national_ids(number: str) -> None:
    """A valid 身分證字號 (any case, spaces or hyphens) is accepted as national."""
    value, kind = idno.classify(number)
    assert kind is idno.IdKind.NATIONAL and value == value.upper() and " " not in value


@pytest.mark.parametrize("number", ["A123456788", "A123456780", "Z123456789"])
def test_idno_classify_bad_check_digit_refused(number: str) -> None:
    """A wrong check digit is refused, and the message does not repeat the number."""
    with pytest.raises(idno.InvalidIdNumber) as err:
        idno.classify(number)
    assert number not in str(err.value)
    assert "check digit" in str(err.value)


@pytest.mark.parametrize("number", ["", "A12345678", "A1234567890", "1234567890", "A323456789", "AB"])
def test_idno_classify_malformed_refused(number: str) -> None:
    """Malformed numbers are refused with a reason."""
    with pytest.raises(idno.InvalidIdNumber):
        idno.classify(number)


def _with_check_digit(prefix: str) -> str:
    for digit in "0123456789":
        candidate = prefix + digit
        if idno._checksum_ok(candidate):
            return candidate
    raise AssertionError("no check digit")


def test_idno_classify_new_style_resident_number() -> None:
    """A resident certificate number with 8 or 9 as second character is a resident number."""
    number = _with_check_digit("A80000001")
    assert idno.classify(number)[1] is idno.IdKind.RESIDENT


def test_idno_classify_old_style_resident_number() -> None:
    """An old resident certificate number (second letter A-D) uses that letter's code in the checksum."""
    number = _with_check_digit("AC0000001")
    assert idno.classify(number)[1] is idno.IdKind.RESIDENT
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not idno.is_valid(broken)


def test_idno_classify_passport_only_where_allowed() -> None:
    """Passport numbers are accepted only where allowed."""
    assert not idno.is_valid("X12345678")
    assert idno.classify("x1234567", allow_passport=True) == ("X1234567", idno.IdKind.PASSPORT)
    with pytest.raises(idno.InvalidIdNumber):
        idno.classify("AB!", allow_passport=True)


def test_idno_mask_shows_three_and_three() -> None:
    """Masking shows the first and last three characters: A12****789."""
    assert idno.mask("A123456789") == "A12****789"
    assert idno.mask("x1234567") == "X12**567"
    assert idno.mask("ABCD") == "A**D"


def test_idno_vault_round_trip_and_random_nonce(tmp_path: Path) -> None:
    """Encryption round-trips, uses a fresh nonce each time, and the lookup hash is stable."""
    vault = idno.IdVault(idno.load_secret(tmp_path))
    first, second = vault.encrypt("A123456789"), vault.encrypt("A123456789")
    assert first != second and "A123456789" not in first
    assert vault.decrypt(first) == "A123456789"
    assert vault.lookup_hash("a123456789") == vault.lookup_hash("A123456789")
    assert "secret" not in repr(vault) or "hidden" in repr(vault)


def test_idno_vault_other_key_cannot_decrypt(tmp_path: Path) -> None:
    """A different key neither decrypts nor matches the lookup hash."""
    one = idno.IdVault(idno.load_secret(tmp_path / "a"))
    two = idno.IdVault(idno.load_secret(tmp_path / "b"))
    with pytest.raises(ValueError, match="cannot be decrypted"):
        two.decrypt(one.encrypt("A123456789"))
    assert one.lookup_hash("A123456789") != two.lookup_hash("A123456789")


def test_idno_load_secret_generates_owner_only_key_once(tmp_path: Path) -> None:
    """The embedded default generates the key under KEYS_DIR with mode 0600, and reuses it."""
    secret = idno.load_secret(tmp_path)
    path = tmp_path / idno.KEY_FILE_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert idno.load_secret(tmp_path) == secret


def test_idno_load_secret_created_by_processes_at_once_is_one_key(tmp_path: Path) -> None:
    """Processes starting together (parallel certification workers) all read one whole key, and only one is made.

    Before, a process could read the file between another's create and write, and fail on an empty key.
    """
    context = multiprocessing.get_context("spawn")
    folders = [tmp_path / f"keys-{n // 6}" for n in range(6 * 20)]  # 20 folders, each created by 6 processes at once
    with context.Pool(6, initializer=support.set_start_barrier, initargs=(context.Barrier(6),)) as pool:
        found = pool.map(support.load_secret_together, folders, chunksize=1)
    for folder in set(folders):
        keys = {secret for path, secret in zip(folders, found, strict=True) if path == folder}
        assert keys == {idno.load_secret(folder)} and len(next(iter(keys))) == 32
        assert [p.name for p in folder.iterdir()] == [idno.KEY_FILE_NAME]  # no temporary file left behind


def test_idno_load_secret_from_configuration(tmp_path: Path) -> None:
    """A configured key (URL-safe base64 of 32 bytes) wins; a wrong length is refused."""
    import base64

    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    assert idno.load_secret(tmp_path, key) == b"k" * 32
    assert not (tmp_path / idno.KEY_FILE_NAME).exists()
    with pytest.raises(ValueError, match="32 bytes"):
        idno.load_secret(tmp_path, base64.urlsafe_b64encode(b"short").decode())


def test_idno_seal_validates_and_masks(tmp_path: Path) -> None:
    """Sealing validates, masks and encrypts; an invalid number is refused before anything is stored."""
    vault = idno.IdVault(idno.load_secret(tmp_path))
    sealed = vault.seal("A123456789")
    assert sealed.masked == "A12****789" and sealed.kind is idno.IdKind.NATIONAL
    assert vault.decrypt(sealed.cipher) == "A123456789"
    with pytest.raises(idno.InvalidIdNumber):
        vault.seal("A123456788")


def test_idno_app_start_refuses_bad_configured_key(tmp_path: Path) -> None:
    """D6: a malformed CERTIFICATION_ID_KEY stops start-up with one line, not a 500 at the first export."""
    import lti_tool
    from lrs.config import ConfigError
    from tests.conftest import app_config

    with pytest.raises(ConfigError, match="CERTIFICATION_ID_KEY"):
        lti_tool.create_app(app_config(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, CERTIFICATION_ID_KEY="too-short"))
