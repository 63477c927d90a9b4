"""Store and query statements: batch inserts in one transaction and keyset queries as semi-joins.

The caller owns the transaction: `store_batch` adds rows to the session and the caller commits
(or rolls back: a conflict anywhere raises before anything is committed, so the whole batch is
refused). Behaviour is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from lrs.db import driver_many, driver_rows, driver_sql, utc_from_driver, utcnow
from lrs.errors import BadRequest, Conflict
from lrs.storage.models import Activity, Attachment, Statement, StatementKey
from lrs.xapi import jsonio
from lrs.xapi import statements as xs
from lrs.xapi.attachments import AttachmentData
from lrs.xapi.equivalence import equivalent
from lrs.xapi.query import StatementQuery
from lrs.xapi.types import format_timestamp, parse_timestamp
from lrs.xapi.validation import VOIDED_VERB

# Core tables: executemany through them skips the ORM's bulk-insert bookkeeping.
STATEMENT_TABLE: Table = Statement.__table__  # type: ignore[assignment]
KEY_TABLE: Table = StatementKey.__table__  # type: ignore[assignment]
ACTIVITY_TABLE: Table = Activity.__table__  # type: ignore[assignment]
# Ids per `IN (...)` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500
# Any constant: the PostgreSQL advisory lock that serialises statement writers.
_PG_LOCK_ID = 7_209_031_003


@dataclass
class StoreResult:
    """What a batch store did."""

    ids: list[str]
    stored: list[dict[str, Any]]
    # Canonical Activity definitions this batch wrote or read, for `ActivityCache.remember`.
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)


class ActivityCache:
    """Remember canonical Activity definitions so repeated statements skip their merge queries.

    Merges only add to a definition, so when a remembered definition already covers what a
    statement brings, the stored one (remembered or newer) covers it too. Remember only after
    the transaction commits, so a rolled-back batch never leaves definitions it did not store.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def covers(self, activity_id: str, definition: dict[str, Any]) -> bool:
        """Tell whether the remembered definition already holds everything in `definition`."""
        with self._lock:
            known = self._items.get(activity_id)
            if known is None:
                return False
            self._items.move_to_end(activity_id)
        return _merge_maps(known, definition) == known

    def remember(self, definitions: dict[str, dict[str, Any]]) -> None:
        """Remember definitions as stored, forgetting the least recently used beyond the size."""
        with self._lock:
            for activity_id, definition in definitions.items():
                self._items[activity_id] = definition
                self._items.move_to_end(activity_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@functools.cache
def _sqlite_insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[str, list[tuple[int, Any]]]:
    """Return an INSERT with `?` placeholders and the (position, bind processor) of columns that need one."""
    quoted = ", ".join(f'"{name}"' for name in columns)  # names come from our own table
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in columns)})'  # noqa: S608 (our own names)
    processors = [(index, table.c[name].type._cached_bind_processor(dialect)) for index, name in enumerate(columns)]
    return sql, [(index, convert) for index, convert in processors if convert is not None]


def _bulk_insert(session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows (tuples in `columns` order) on the driver: executemany on SQLite, COPY on PostgreSQL.

    No SQL is compiled per call. psycopg's executemany sends one prepared INSERT per row; COPY
    streams every row in one command, inside the same transaction.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        sql, processors = _sqlite_insert(connection.dialect, table, columns)
        if processors:
            converted = []
            for row in rows:
                values = list(row)
                for index, convert in processors:
                    values[index] = convert(values[index])
                converted.append(values)
            rows = converted  # type: ignore[assignment]
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    quoted = ", ".join(f'"{name}"' for name in columns)  # names come from our own table
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def lock_for_write(session: Session) -> None:
    """Serialise statement writers so stored order, `stored` and commit order agree.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a no-op write, which takes the
    database's write lock at once (SQLite has one writer at a time anyway).
    """
    if session.get_bind().dialect.name == "postgresql":
        driver_sql(session, "SELECT pg_advisory_xact_lock(?)", (_PG_LOCK_ID,))
    else:
        driver_sql(session, "UPDATE lrs_statement SET voided = voided WHERE 0")


def _now_ms() -> dt.datetime:
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _dumps(value: Any) -> str:
    return jsonio.dumps(value).decode("utf-8")


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing()
    session.execute(stmt, rows)


def store_batch(
    session: Session,
    statements: Sequence[dict[str, Any]],
    *,
    authority: dict[str, Any],
    version: str,
    attachments: dict[str, AttachmentData] | None = None,
    activity_cache: ActivityCache | None = None,
) -> StoreResult:
    """Store validated statements atomically and return their ids and the statements as stored.

    Communication 2.1.1/2.1.2: an id the LRS already has with an equivalent statement is accepted
    without change; a different one is a 409 Conflict for the whole batch. Data 2.3.2: voiding a
    voiding statement is refused with 400; a voided target is marked voided.
    """
    # Everything that needs no database runs before the write lock, so that concurrent writers
    # overlap their work and hold the lock only for reads, inserts and the commit.
    provisional = _now_ms()
    prepared = [xs.prepare(stmt, stored=provisional, authority=authority, version=version) for stmt in statements]
    all_keys = [xs.statement_keys(stmt) for stmt in prepared]
    ids = [item["id"] for item in prepared]
    lock_for_write(session)
    stored_at = _now_ms()
    if stored_at != provisional:
        stored_text = format_timestamp(stored_at)
        for original, stmt in zip(statements, prepared, strict=True):
            stmt["stored"] = stored_text
            if "timestamp" not in original:
                stmt["timestamp"] = stored_text
    # Only ids the client chose can already be stored or already be targeted by earlier
    # statements; ids the LRS generates just now cannot, so they need no lookups.
    given = [str(stmt["id"]).lower() for stmt in statements if "id" in stmt]
    existing: dict[str, str] = {}
    if given:
        existing = dict(_rows_in(session, "SELECT statement_id, body FROM lrs_statement WHERE statement_id IN ({})", given))
    new: list[dict[str, Any]] = []
    keys: list[xs.StatementKeys] = []
    for stmt, stmt_keys in zip(prepared, all_keys, strict=True):
        row = existing.get(stmt["id"].lower())
        if row is None:
            new.append(stmt)
            keys.append(stmt_keys)
        elif not equivalent(orjson.loads(row), stmt):
            raise Conflict(f"Statement {stmt['id']} already exists with different content; statements are immutable.")
    if not new:
        return StoreResult(ids, [])
    _check_voiding(session, new, keys)
    authority_key = xs.agent_key(authority)
    given_new = [ident for ident in given if ident not in existing]
    # Statements stored earlier that target the new ones: voiding ones void them at once, and
    # every one inherits their filter keys (Communication 2.1.3 StatementRef filter conditions).
    referrers = (
        _rows_in(session, "SELECT pk, statement_id, object_ref_id, verb_id FROM lrs_statement WHERE object_ref_id IN ({})", given_new)
        if given_new
        else []
    )
    already_voided = {object_ref_id for _pk, _statement_id, object_ref_id, verb_id in referrers if verb_id == VOIDED_VERB}
    rows = [
        statement_row(
            stmt,
            key,
            stored_at=stored_at,
            authority_key=authority_key,
            voided=stmt["id"].lower() in already_voided and key.voiding_target is None,
        )
        for stmt, key in zip(new, keys, strict=True)
    ]
    _inherit_target_keys(session, new, keys)
    insert_rows(session, rows, [key.keys for key in keys])
    if referrers:
        new_keys = {stmt["id"].lower(): key.keys for stmt, key in zip(new, keys, strict=True)}
        _propagate_to_referrers(session, new_keys, [(pk, statement_id, object_ref_id) for pk, statement_id, object_ref_id, _verb in referrers])
    targets = [key.voiding_target for key in keys if key.voiding_target]
    if targets:
        session.execute(
            update(Statement)
            .where(Statement.statement_id.in_(targets), Statement.verb_id != VOIDED_VERB)
            .values(voided=True)
        )
    _store_attachments(session, new, attachments or {})
    activities = merge_activities(session, new, stored_at, activity_cache)
    return StoreResult(ids, new, activities)


def statement_row(
    stmt: dict[str, Any], key: xs.StatementKeys, *, stored_at: dt.datetime, authority_key: str | None, voided: bool = False
) -> dict[str, Any]:
    """Return the `lrs_statement` row of a prepared statement (without its stored-order key)."""
    return {
        "statement_id": stmt["id"].lower(),
        "body": _dumps(stmt),
        "verb_id": key.verb_id,
        "actor_key": key.actor_key,
        "object_type": key.object_type,
        "object_activity_id": key.object_activity_id,
        "object_ref_id": key.object_ref_id,
        "registration": key.registration,
        "stored": stored_at,
        "timestamp": parse_timestamp(stmt["timestamp"]) or stored_at,
        "voided": voided,
        "authority_key": authority_key,
        "has_attachments": bool(xs.attachment_hashes(stmt)),
        "version": str(stmt["version"]),
    }


def insert_rows(session: Session, rows: list[dict[str, Any]], keys: Sequence[set[tuple[str, str]]]) -> None:
    """Insert statement rows and their index keys; call it holding `lock_for_write`.

    Under the write lock no one else inserts, so the next stored-order keys are ours to assign,
    and plain bulk inserts replace RETURNING round trips.
    """
    found = driver_sql(session, "SELECT max(pk) FROM lrs_statement")
    base = int(found[0] or 0) if found else 0
    if not rows:
        return
    for offset, values in enumerate(rows, start=1):
        values["pk"] = base + offset
    _bulk_insert(session, STATEMENT_TABLE, tuple(rows[0]), [tuple(values.values()) for values in rows])
    key_rows = [
        (kind, value, values["pk"]) for values, statement_keys in zip(rows, keys, strict=True) for kind, value in statement_keys
    ]
    _bulk_insert(session, KEY_TABLE, ("kind", "value", "statement_pk"), key_rows)


def _check_voiding(session: Session, new: Sequence[dict[str, Any]], keys: Sequence[xs.StatementKeys]) -> None:
    targets = {key.voiding_target: stmt["id"] for stmt, key in zip(new, keys, strict=True) if key.voiding_target}
    if not targets:
        return
    batch_voiding = {stmt["id"].lower() for stmt, key in zip(new, keys, strict=True) if key.voiding_target}
    stored_voiding = set(
        session.scalars(
            select(Statement.statement_id).where(Statement.statement_id.in_(targets), Statement.verb_id == VOIDED_VERB)
        )
    )
    for target, voider in targets.items():
        if target in batch_voiding or target in stored_voiding:
            # Data 2.3.2: a statement that voids another cannot itself be voided.
            raise BadRequest(f"Statement {voider} voids {target}, which is itself a voiding statement and cannot be voided.")


def _stored_keys(session: Session, ids: set[str], depth: int = 0) -> dict[str, set[tuple[str, str]]]:
    """Recompute the filter keys of stored statements from their bodies, following StatementRefs."""
    found: dict[str, set[tuple[str, str]]] = {}
    targets: dict[str, str] = {}
    for row in session.execute(select(Statement.statement_id, Statement.body).where(Statement.statement_id.in_(ids))):
        keys = xs.statement_keys(orjson.loads(row.body))
        found[row.statement_id] = set(keys.keys)
        if keys.object_ref_id:
            targets[row.statement_id] = keys.object_ref_id
    if targets and depth < _MAX_REF_DEPTH:
        inner = _stored_keys(session, set(targets.values()), depth + 1)
        for ident, target in targets.items():
            found[ident] |= inner.get(target, set())
    return found


# How far a chain of StatementRefs is followed for filter inheritance.
_MAX_REF_DEPTH = 8


def _inherit_target_keys(session: Session, new: Sequence[dict[str, Any]], keys: Sequence[xs.StatementKeys]) -> None:
    """Give each StatementRef statement its target's filter keys (Communication 2.1.3)."""
    by_id = {stmt["id"].lower(): key for stmt, key in zip(new, keys, strict=True)}
    wanted = {key.object_ref_id for key in keys if key.object_ref_id}
    if not wanted:
        return
    missing = wanted - by_id.keys()
    stored = _stored_keys(session, missing) if missing else {}
    # Targets inside the batch may themselves target others: resolve a few rounds.
    for _ in range(_MAX_REF_DEPTH):
        changed = False
        for key in keys:
            ref = key.object_ref_id
            if ref is None:
                continue
            inherited = by_id[ref].keys if ref in by_id else stored.get(ref, set())
            if not inherited <= key.keys:
                key.keys |= inherited
                changed = True
        if not changed:
            break


def _propagate_to_referrers(
    session: Session, new_keys: dict[str, set[tuple[str, str]]], referrers: Sequence[tuple[int, str, str]]
) -> None:
    """Give statements stored earlier that target the new ones (and their own referrers) the new keys."""
    level = [(pk, statement_id, new_keys[target]) for pk, statement_id, target in referrers if target in new_keys]
    copies: list[dict[str, Any]] = []
    for _ in range(_MAX_REF_DEPTH):
        if not level:
            break
        for pk, _statement_id, keys in level:
            copies.extend({"kind": kind, "value": value, "statement_pk": pk} for kind, value in keys)
        inherited = {statement_id: keys for _pk, statement_id, keys in level}
        rows = session.execute(
            select(Statement.pk, Statement.statement_id, Statement.object_ref_id).where(
                Statement.object_ref_id.in_(list(inherited))
            )
        ).all()
        level = [(row.pk, row.statement_id, inherited[row.object_ref_id]) for row in rows]
    _insert_ignore(session, StatementKey, copies)


def _store_attachments(session: Session, new: Sequence[dict[str, Any]], data: dict[str, AttachmentData]) -> None:
    wanted = {str(item["sha2"]).lower() for stmt in new for item in xs.attachment_hashes(stmt)}
    rows = [
        {"sha2": sha2, "content_type": data[sha2].content_type, "length": len(data[sha2].data), "data": data[sha2].data}
        for sha2 in sorted(wanted & data.keys())
    ]
    _insert_ignore(session, Attachment, rows)


def _merge_maps(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key in ("name", "description", "extensions") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def merge_activities(
    session: Session, new: Iterable[dict[str, Any]], when: dt.datetime, cache: ActivityCache | None = None
) -> dict[str, dict[str, Any]]:
    """Merge the Activity Definitions in new statements into each Activity's canonical definition.

    Data 2.4.4.1 / IEEE 9274.1.1 4.2.4.3: the LRS may update its canonical definition; language
    maps are merged so that every language any statement gave is kept. Returns the definitions
    as now stored for the Activities it looked at (those the cache already covered are skipped).
    """
    definitions: dict[str, dict[str, Any]] = {}
    for stmt in new:
        for item in xs.activities_with_definitions(stmt):
            activity_id = str(item["id"])
            definitions[activity_id] = _merge_maps(definitions.get(activity_id, {}), item.get("definition") or {})
    if cache is not None:
        definitions = {key: value for key, value in definitions.items() if not cache.covers(key, value)}
    if not definitions:
        return {}
    # Fixed SQL on the driver: this runs under the write lock for nearly every new statement, and
    # building ORM statements cost more than the queries (over a quarter of a single POST's time).
    stored: dict[str, str] = dict(
        _rows_in(session, "SELECT activity_id, definition FROM lrs_activity WHERE activity_id IN ({})", list(definitions))
    )
    updated = _bind_time(session, ACTIVITY_TABLE.c.updated, when)
    inserts: list[tuple[str, str, Any]] = []
    result: dict[str, dict[str, Any]] = {}
    for activity_id, definition in definitions.items():
        if activity_id not in stored:
            inserts.append((activity_id, _dumps(definition), updated))
            result[activity_id] = definition
            continue
        merged = _merge_maps(orjson.loads(stored[activity_id]), definition)
        text_value = _dumps(merged)
        if text_value != stored[activity_id]:
            driver_sql(
                session, "UPDATE lrs_activity SET definition = ?, updated = ? WHERE activity_id = ?", (text_value, updated, activity_id)
            )
        result[activity_id] = merged
    if inserts:
        driver_many(
            session, "INSERT INTO lrs_activity (activity_id, definition, updated) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", inserts
        )
    return result


def _rows_in(session: Session, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run fixed SQL whose one `IN ({})` takes `values`, in chunks, on the driver; return every row."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        rows.extend(driver_rows(session, sql.format(", ".join("?" for _ in chunk)), chunk))
    return rows


def get_activity_definition(session: Session, activity_id: str) -> dict[str, Any] | None:
    """Return the canonical definition of an Activity the LRS has seen, or None (Activities resource)."""
    value = session.scalar(select(Activity.definition).where(Activity.activity_id == activity_id))
    if value is None:
        return None
    definition: dict[str, Any] = orjson.loads(value)
    return definition


def get_activity_definitions(session: Session, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return the canonical definitions of several Activities by id."""
    wanted = list(set(activity_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Activity.activity_id, Activity.definition).where(Activity.activity_id.in_(wanted)))
    return {row.activity_id: orjson.loads(row.definition) for row in rows}


@dataclass
class Found:
    """A statement read back: its stored-order key, its JSON text as stored (UTF-8) and its raw `stored` value.

    `body` is exactly what `format=exact` returns, so a reader that only forwards it never
    parses it; `statement` parses it on first use.
    """

    pk: int
    body: bytes
    stored: Any = None

    @functools.cached_property
    def statement(self) -> dict[str, Any]:
        """Return the statement as a dict (parsed once)."""
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


def _body_column(session: Session) -> str:
    """Select `body` as UTF-8 bytes where the database can hand them over without decoding.

    On SQLite a BLOB cast returns the stored bytes as they are; decoding a hundred statements
    with non-ASCII text into str and encoding them again cost more than the query itself.
    """
    return "CAST(s.body AS BLOB)" if session.get_bind().dialect.name == "sqlite" else "s.body"


def _found(session: Session, sql: str, params: Sequence[Any]) -> list[Found]:
    """Run a (pk, body, stored) query and return its rows as `Found`, with bodies as bytes."""
    rows = driver_rows(session, sql, params)
    return [Found(pk, body if isinstance(body, bytes) else str(body).encode("utf-8"), stored) for pk, body, stored in rows]


def _bind_time(session: Session, column: Any, moment: dt.datetime) -> Any:
    """Return `moment` as the driver takes it for a UTCDateTime `column` (SQLite: naive UTC text)."""
    bind = column.type._cached_bind_processor(session.get_bind().dialect)
    return bind(moment) if bind is not None else moment


def get_statement(session: Session, statement_id: str, *, voided: bool, authority_key: str | None = None) -> Found | None:
    """Return one statement by id: a voided one only when `voided`, a non-voided one only when not."""
    sql = f"SELECT s.pk, {_body_column(session)}, s.stored FROM lrs_statement s WHERE s.statement_id = ? AND s.voided = ?"  # noqa: S608 (fixed fragments)
    params: list[Any] = [statement_id.lower(), voided]
    if authority_key is not None:
        sql += " AND s.authority_key = ?"
        params.append(authority_key)
    found = _found(session, sql, params)
    return found[0] if found else None


# Fixed SQL fragments of `query_statements` (aliases and key names are ours; values are parameters).
_EXISTS_KEY = (
    "EXISTS (SELECT 1 FROM lrs_statement_key {alias} WHERE {alias}.statement_pk = k0.statement_pk"
    " AND {alias}.kind = ? AND {alias}.value = ?)"
)
_SINCE = "{order_key} >= (SELECT pk FROM lrs_statement WHERE stored > ? ORDER BY stored ASC, pk ASC LIMIT 1) AND s.stored > ?"
_UNTIL = "{order_key} <= (SELECT pk FROM lrs_statement WHERE stored <= ? ORDER BY stored DESC, pk DESC LIMIT 1) AND s.stored <= ?"


def query_statements(session: Session, query: StatementQuery, *, authority_key: str | None = None) -> list[Found]:
    """Run a statement query: one page of at most `query.limit + 1` statements in stored order.

    The rarest filter (by a capped count of its index entries) drives an ordered scan of the key
    index; the others are semi-joins (EXISTS) on the same index, so no filter fans out into a
    sort and a rare verb combined with a common activity scans only the rare verb's entries.
    Every shape is an index range scan in stored-order-key order that stops after limit + 1 rows.
    """
    filters: list[tuple[str, str]] = []
    if query.registration:
        filters.append((xs.KEY_REGISTRATION, query.registration))
    if query.agent:
        filters.append((xs.KEY_AGENT_RELATED if query.related_agents else xs.KEY_AGENT, query.agent))
    if query.activity:
        filters.append((xs.KEY_ACTIVITY_RELATED if query.related_activities else xs.KEY_ACTIVITY, query.activity))
    if query.verb:
        filters.append((xs.KEY_VERB, query.verb))
    if len(filters) > 1:
        filters = _rarest_first(session, filters)
    params: list[Any] = []
    body = f"{_body_column(session)}, s.stored"
    if filters:
        order_key = "k0.statement_pk"
        sql = f"SELECT s.pk, {body} FROM lrs_statement_key k0 JOIN lrs_statement s ON s.pk = k0.statement_pk"  # noqa: S608
        where = ["k0.kind = ?", "k0.value = ?"]
        params += filters[0]
        for index, (kind, value) in enumerate(filters[1:], start=1):
            alias = f"k{index}"
            where.append(_EXISTS_KEY.format(alias=alias))
            params += (kind, value)
    else:
        order_key = "s.pk"
        sql = f"SELECT s.pk, {body} FROM lrs_statement s"  # noqa: S608
        where = []
    where.append("s.voided = ?")
    params.append(False)
    # Stored order and `stored` agree (both are assigned under the write lock), so since/until
    # become bounds on the stored-order key: one index probe each (a scalar subquery, run once)
    # instead of a scan. A bound with no statement beyond it is NULL and matches nothing.
    if query.since is not None:
        since = _bind_time(session, STATEMENT_TABLE.c.stored, query.since)
        where.append(_SINCE.format(order_key=order_key))
        params += (since, since)
    if query.until is not None:
        until = _bind_time(session, STATEMENT_TABLE.c.stored, query.until)
        where.append(_UNTIL.format(order_key=order_key))
        params += (until, until)
    if authority_key is not None:
        where.append("s.authority_key = ?")
        params.append(authority_key)
    if query.ceiling is not None:
        where.append(f"{order_key} <= ?")
        params.append(query.ceiling)
    if query.after is not None:
        where.append(f"{order_key} {'>' if query.ascending else '<'} ?")
        params.append(query.after)
    sql += f" WHERE {' AND '.join(where)} ORDER BY {order_key} {'ASC' if query.ascending else 'DESC'} LIMIT ?"
    params.append(query.limit + 1)
    return _found(session, sql, params)


# Counting stops here: beyond it a filter is "common" and any rarer one should drive the scan.
_ESTIMATE_CAP = 5000


def _rarest_first(session: Session, filters: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Order filters by their index entries, rarest first, counting each only as far as it can still win.

    Each count is capped at one more than the rarest found so far, so a common filter beside a
    rare one costs a short index-only scan instead of a full capped count.
    """
    cap = _ESTIMATE_CAP
    counted: list[tuple[int, tuple[str, str]]] = []
    for item in filters:
        count = _estimate(session, *item, cap=cap)
        counted.append((count, item))
        cap = min(cap, count + 1)
    counted.sort(key=lambda pair: pair[0])
    return [item for _, item in counted]


_ESTIMATE_SQL = "SELECT count(*) FROM (SELECT 1 FROM lrs_statement_key WHERE kind = ? AND value = ? LIMIT ?) capped"


def _estimate(session: Session, kind: str, value: str, cap: int = _ESTIMATE_CAP) -> int:
    """Count a filter's index entries up to a cap (an index-only scan), to pick the rarest as driver."""
    found = driver_sql(session, _ESTIMATE_SQL, (kind, value, cap))
    return int(found[0] or 0) if found else 0


def consistent_through(session: Session, margin_seconds: float) -> dt.datetime:
    """Return the latest time up to which every stored statement is visible to this session.

    Communication 2.1.3 (X-Experience-API-Consistent-Through). Writers assign `stored` under the
    write lock, one after the other, so once a statement is visible every statement stored
    before it is too; a writer still in flight stored its statements less than `margin_seconds`
    ago. The later of "the newest visible statement" and "now minus the margin" is therefore safe,
    and it is fresh both under load and when the LRS is idle.
    """
    found = driver_sql(session, "SELECT max(stored) FROM lrs_statement")
    newest = utc_from_driver(found[0] if found else None)
    floor = utcnow() - dt.timedelta(seconds=margin_seconds)
    return max(newest, floor) if newest is not None else floor


def latest_pk(session: Session) -> int:
    """Return the highest stored-order key (0 when empty)."""
    return int(session.scalar(select(func.coalesce(func.max(Statement.pk), 0))) or 0)


def get_attachments(session: Session, hashes: Iterable[str]) -> dict[str, AttachmentData]:
    """Return the stored attachment data for the given SHA-2 hashes."""
    wanted = sorted({value.lower() for value in hashes})
    if not wanted:
        return {}
    rows = session.execute(select(Attachment.sha2, Attachment.content_type, Attachment.data).where(Attachment.sha2.in_(wanted)))
    return {row.sha2: AttachmentData(row.sha2, row.content_type, bytes(row.data)) for row in rows}
