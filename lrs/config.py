"""Read configuration from the environment, with safe embedded defaults.

Every setting has one place here. `load_settings()` turns environment variables (and, for tests,
an override mapping) into a frozen `Settings`; anything invalid raises `ConfigError` with one line
that says what is wrong and how to fix it, before anything is created on disk.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """Configuration that the product cannot start with."""


@dataclass(frozen=True)
class Settings:
    """The product's configuration, one field per environment variable."""

    database_url: str
    secret_key: str
    instance_path: Path
    keys_dir: Path
    public_base_url: str
    port: int = 8000
    redis_url: str | None = None
    redis_key_prefix: str = "lb:"
    lrs_endpoint: str | None = None
    lrs_key: str | None = None
    lrs_secret: str | None = None
    allow_private_outbound: bool = False
    demo_mode: bool = False
    session_lifetime_minutes: int = 480
    max_body_bytes: int = 16 * 1024 * 1024
    outbound_timeout_seconds: float = 5.0
    outbound_max_bytes: int = 1024 * 1024
    workers: int = 2
    proxy_count: int = 0
    testing: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def uses_https(self) -> bool:
        """Tell whether the public base URL is served over TLS."""
        return self.public_base_url.startswith("https://")


# Environment variable -> (field name, parser). Parsers raise ValueError with a readable message.
def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected one of 1/0/true/false/yes/no/on/off, got {value!r}")


def _parse_int(minimum: int, maximum: int) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"expected a number from {minimum} to {maximum}, got {number}")
        return number

    return parse


def _parse_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < number <= 300:
        raise ValueError(f"expected a number of seconds above 0 and at most 300, got {number}")
    return number


def _parse_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"expected an http(s) URL such as https://lb.example.gov.tw, got {value!r}")
    return value.rstrip("/")


def _parse_database_url(value: str) -> str:
    scheme = value.split(":", 1)[0]
    if scheme.startswith("postgres"):
        # Accept the common spellings and use the psycopg 3 driver for all of them.
        rest = value.split("://", 1)[1] if "://" in value else ""
        if not rest:
            raise ValueError(f"expected postgresql://user@host:port/database, got {value!r}")
        return "postgresql+psycopg://" + rest
    if scheme.startswith("sqlite"):
        return value
    raise ValueError(f"expected a sqlite:/// or postgresql:// URL, got {value!r}")


def _parse_redis_url(value: str) -> str | None:
    if not value:
        return None
    if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(f"expected redis://host:port/db, got {value!r}")
    return value


def _parse_str(value: str) -> str:
    return value


_ENV: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("database_url", _parse_database_url),
    "REDIS_URL": ("redis_url", _parse_redis_url),
    "REDIS_KEY_PREFIX": ("redis_key_prefix", _parse_str),
    "SECRET_KEY": ("secret_key", _parse_str),
    "PUBLIC_BASE_URL": ("public_base_url", _parse_http_url),
    "KEYS_DIR": ("keys_dir", Path),
    "INSTANCE_PATH": ("instance_path", Path),
    "LRS_ENDPOINT": ("lrs_endpoint", _parse_http_url),
    "LRS_KEY": ("lrs_key", _parse_str),
    "LRS_SECRET": ("lrs_secret", _parse_str),
    "ALLOW_PRIVATE_OUTBOUND": ("allow_private_outbound", _parse_bool),
    "DEMO_MODE": ("demo_mode", _parse_bool),
    "PORT": ("port", _parse_int(1, 65535)),
    "SESSION_LIFETIME_MINUTES": ("session_lifetime_minutes", _parse_int(5, 7 * 24 * 60)),
    "MAX_BODY_BYTES": ("max_body_bytes", _parse_int(1024, 1024 * 1024 * 1024)),
    "OUTBOUND_TIMEOUT_SECONDS": ("outbound_timeout_seconds", _parse_float),
    "OUTBOUND_MAX_BYTES": ("outbound_max_bytes", _parse_int(1024, 1024 * 1024 * 1024)),
    "WEB_CONCURRENCY": ("workers", _parse_int(1, 64)),
    "PROXY_COUNT": ("proxy_count", _parse_int(0, 5)),
}

# Area settings: read from the environment into app.config under the same name, where each area
# reads them with `current_app.config.get(NAME, default)`. Name -> (parser, default shown in the README).
AREA_SETTINGS: dict[str, tuple[Any, str]] = {
    # LRS documents and statements
    "LRS_DOCUMENT_MAX_BYTES": (_parse_int(1024, 1024 * 1024 * 1024), "8388608"),
    "LRS_STATEMENTS_MAX_LIMIT": (_parse_int(1, 100000), "250"),
    "LRS_UNVERSIONED_RESPONSE_VERSION": (_parse_str, "1.0.3"),
    "LRS_CONSISTENCY_MARGIN_SECONDS": (_parse_float, "5"),
    "LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE": (_parse_bool, "0"),
    # Forwarding accepted statements to another LRS through the outbox
    "LRS_FORWARD_ENDPOINT": (_parse_http_url, "unset"),
    "LRS_FORWARD_KEY": (_parse_str, "unset"),
    "LRS_FORWARD_SECRET": (_parse_str, "unset"),
    "LRS_FORWARD_VERBS": (_parse_str, "all"),
    "LRS_FORWARD_ACTIVITIES": (_parse_str, "all"),
    "LRS_FORWARD_VERSION": (_parse_str, "1.0.3"),
    # The durable outbox
    "OUTBOX_BATCH_SIZE": (_parse_int(1, 10000), "50"),
    "OUTBOX_LEASE_SECONDS": (_parse_int(5, 86400), "120"),
    "OUTBOX_MAX_ATTEMPTS": (_parse_int(1, 100000), "100"),
    "OUTBOX_BACKOFF_BASE_SECONDS": (_parse_float, "2"),
    "OUTBOX_BACKOFF_MAX_SECONDS": (_parse_int(1, 7 * 86400), "3600"),
    "OUTBOX_POLL_SECONDS": (_parse_float, "2"),
    "OUTBOX_IN_PROCESS": (_parse_bool, "0"),
    # Catalog
    "CATALOG_IMPORT_MAX_ROWS": (_parse_int(1, 1000000), "5000"),
    "CATALOG_IMPORT_MAX_BYTES": (_parse_int(1024, 1024 * 1024 * 1024), "5242880"),
    "CATALOG_LINK_CHECK_CONCURRENCY": (_parse_int(1, 32), "4"),
    "CATALOG_LICENCE_WARNING_DAYS": (_parse_int(1, 3650), "60"),
    "CATALOG_FOUR_EYES": (_parse_bool, "0"),
    # LTI
    "LTI_KEY_OVERLAP_HOURS": (_parse_int(0, 24 * 90), "24"),
    "LTI_KEY_RETENTION_HOURS": (_parse_int(0, 24 * 365), "72"),
    "LTI_CLOCK_LEEWAY_SECONDS": (_parse_int(0, 600), "60"),
    "LTI_PLATFORM_JWKS_TTL_SECONDS": (_parse_int(10, 86400 * 7), "3600"),
    "LTI_JWKS_REFETCH_SECONDS": (_parse_int(1, 86400), "60"),
    "LTI_LAUNCH_SESSION_HOURS": (_parse_int(1, 72), "8"),
    "LTI_DYNAMIC_REGISTRATION_REQUIRES_APPROVAL": (_parse_bool, "0"),
    # Hour certification
    "CERTIFICATION_ID_KEY": (_parse_str, "generated into KEYS_DIR/certification_id.key"),
    "CERTIFICATION_ALLOW_PASSPORT": (_parse_bool, "1"),
    "CERTIFICATION_PROFILES": (_parse_str, "unset"),
    "CERTIFICATION_EXPORT_DIR": (_parse_str, "INSTANCE_PATH/exports"),
    "CERTIFICATION_HOLIDAYS": (_parse_str, "unset"),
    # Learner player
    "LEARNING_TOKEN_HOURS": (_parse_int(1, 168), "12"),
    "LEARNING_HEARTBEAT_SECONDS": (_parse_int(5, 600), "30"),
    "LEARNING_HEARTBEAT_GRACE_SECONDS": (_parse_int(0, 600), "15"),
    "LEARNING_HEARTBEAT_MIN_SECONDS": (_parse_int(1, 600), "10"),
    "LEARNING_EVIDENCE_MAX_BYTES": (_parse_int(1024, 1024 * 1024 * 1024), "5242880"),
    "LEARNING_ID_MAX_FAILURES": (_parse_int(1, 1000), "5"),
}


def env_names() -> list[str]:
    """List the environment variables the product reads."""
    return sorted(_ENV)


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build `Settings` from the environment and optional overrides keyed by variable name."""
    env = dict(os.environ if environ is None else environ)
    given: dict[str, Any] = {}
    for name, (attr, parse) in _ENV.items():
        raw = env.get(name)
        if raw is None:
            continue
        try:
            given[attr] = parse(raw)
        except ValueError as err:
            raise ConfigError(f"{name} is invalid: {err}.") from None

    extra: dict[str, Any] = {}
    for name, (parse, _default) in AREA_SETTINGS.items():
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            extra[name] = parse(raw)
        except ValueError as err:
            raise ConfigError(f"{name} is invalid: {err}.") from None
    for name, value in (overrides or {}).items():
        if name in _ENV:
            attr, parse = _ENV[name]
            given[attr] = parse(value) if isinstance(value, str) and parse is not _parse_str else value
        elif name == "TESTING":
            given["testing"] = bool(value)
        else:
            extra[name] = value

    instance_path = Path(given.pop("instance_path", PROJECT_ROOT / "instance")).resolve()
    keys_dir = Path(given.pop("keys_dir", PROJECT_ROOT / "keys")).resolve()
    database_url = given.pop("database_url", None) or f"sqlite:///{instance_path / 'learning_bridge.db'}"
    port = given.pop("port", 8000)
    public_base_url = given.pop("public_base_url", None) or f"http://127.0.0.1:{port}"
    secret_key = given.pop("secret_key", None) or ""
    if secret_key and len(secret_key) < 16:
        raise ConfigError("SECRET_KEY is invalid: use at least 16 random characters (python -c 'import secrets; print(secrets.token_urlsafe(32))').")
    settings = Settings(
        database_url=database_url,
        secret_key=secret_key,
        instance_path=instance_path,
        keys_dir=keys_dir,
        public_base_url=public_base_url,
        port=port,
        extra=extra,
        **given,
    )
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    if settings.extra.get("LRS_FORWARD_ENDPOINT") and not (
        settings.extra.get("LRS_FORWARD_KEY") and settings.extra.get("LRS_FORWARD_SECRET")
    ):
        raise ConfigError("LRS_FORWARD_ENDPOINT is set but LRS_FORWARD_KEY or LRS_FORWARD_SECRET is missing.")
    if settings.lrs_endpoint and not (settings.lrs_key and settings.lrs_secret):
        raise ConfigError("LRS_ENDPOINT is set but LRS_KEY or LRS_SECRET is missing: give the remote LRS's credentials.")
    if settings.keys_dir.exists() and not settings.keys_dir.is_dir():
        raise ConfigError(f"KEYS_DIR {settings.keys_dir} is a file, not a folder: point KEYS_DIR at a folder.")
    if settings.instance_path.exists() and not settings.instance_path.is_dir():
        raise ConfigError(f"INSTANCE_PATH {settings.instance_path} is a file, not a folder.")


def prepare_instance(settings: Settings) -> Settings:
    """Create the instance and keys folders and the persisted secret key; return final settings."""
    for folder, name in ((settings.instance_path, "INSTANCE_PATH"), (settings.keys_dir, "KEYS_DIR")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"{name} {folder} cannot be created ({err.strerror}): choose a writable folder.") from None
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            raise ConfigError(f"{name} {folder} is not readable and writable by this user: fix its permissions.")
    if settings.secret_key:
        return settings
    key_file = settings.instance_path / "secret_key"
    if not key_file.exists():
        # Written once with owner-only permissions; every worker and restart reads the same key.
        write_once(key_file, secrets.token_urlsafe(48).encode("ascii"))
    secret = key_file.read_text().strip()
    if len(secret) < 16:
        raise ConfigError(f"{key_file} holds a key that is too short: delete the file to generate a new one.")
    return replace(settings, secret_key=secret)


def write_once(path: Path, data: bytes) -> None:
    """Create an owner-only file (a generated key) whole or not at all, unless it exists, even when processes start at once.

    The data is written and synced under a private temporary name, then linked to its name, which
    fails if another process (a gunicorn worker, a certification worker) linked theirs first: a reader
    never sees a half-written file, and no key ever replaces another. Read the file afterwards.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process linked theirs first
        except OSError:  # a file system without hard links (some network and FUSE mounts): create it in place
            _create_in_place(path, data)
        _sync_folder(path.parent)  # the new name survives a crash, or a restart would make another key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _create_in_place(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def settings_table() -> list[tuple[str, str]]:
    """Return (variable, field) pairs, for documentation and `learning-bridge config`."""
    names = {f.name for f in fields(Settings)}
    return [(env, attr) for env, (attr, _) in sorted(_ENV.items()) if attr in names]
