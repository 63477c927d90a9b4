"""Share a year's recomputation and export among worker processes, by ranges of people (D3, D5).

A year for a whole government is millions of completions; one Python process uses one core. Each
worker opens its own connection to the same database (a file or a server, never an in-memory
SQLite) and reads the ID key the way the app does (CERTIFICATION_ID_KEY, else KEYS_DIR), so the
key never passes between processes. Workers take contiguous ranges of people in id order, and their
results are joined in that order: the ledger, the files and the refusal report are those of one
process (`test_parallel` holds them equal).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import multiprocessing.queues
import os
import queue as queue_module
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lrs.certification import exports, idno, ledger
from lrs.certification.models import Person


class WorkerFailed(RuntimeError):
    """A worker process failed; the message says how (the work it did is committed per batch and idempotent)."""


@dataclass(frozen=True)
class Job:
    """Where workers find the data and the ID key, and how many of them to run."""

    url: str
    keys_dir: str
    configured_key: str | None = None
    workers: int = 2

    @classmethod
    def for_session(cls, session: Session, keys_dir: Path, configured_key: str | None, workers: int) -> Job | None:
        """Return a job for the session's database, or None when workers cannot share it (one worker, in-memory SQLite)."""
        url = session.get_bind().engine.url
        if workers < 2 or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
            return None
        return cls(url.render_as_string(hide_password=False), str(keys_dir), configured_key, workers)


def person_ranges(session: Session, workers: int, agency: str | None = None) -> list[tuple[int, int]]:
    """Split the people (of an agency) into `workers` contiguous id ranges (first, last + 1) of equal head counts."""
    query = select(Person.id).order_by(Person.id)
    if agency:
        query = query.where(Person.agency_code == agency)
    ids = list(session.scalars(query))
    if not ids:
        return []
    step = -(-len(ids) // workers)
    return [(ids[i], ids[min(i + step, len(ids)) - 1] + 1) for i in range(0, len(ids), step)]


def _private(path: str) -> BinaryIO:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _session_for(job: Job) -> tuple[Any, Session]:
    from lrs.db import make_engine
    from lrs.models import import_all_models

    import_all_models()
    engine = make_engine(job.url)
    return engine, sessionmaker(engine, expire_on_commit=False)()


def _recompute_range(job: Job, years: list[int] | None, agency: str | None, id_range: tuple[int, int], index: int,
                     results: multiprocessing.queues.Queue[tuple[int, Any]]) -> None:
    try:
        engine, session = _session_for(job)
        with session:
            report = ledger.recompute(session, years, agency=agency, batch_size=2000, commit_each_batch=True, id_range=id_range)
            session.commit()
        engine.dispose()
        results.put((index, report))
    except Exception as err:  # reported to the parent, which raises it
        results.put((index, f"{type(err).__name__}: {err}"))


def _export_range(job: Job, agency: str | None, id_range: tuple[int, int], options: dict[str, Any], paths: tuple[str, str],
                  index: int, results: multiprocessing.queues.Queue[tuple[int, Any]]) -> None:
    try:
        from lrs.certification import codes, reports  # reports imports this module

        engine, session = _session_for(job)
        vault = idno.IdVault(idno.load_secret(Path(job.keys_dir), job.configured_key))
        # The parts hold ID numbers in clear until the parent has cut them into files: owner-only, deleted after.
        with session, _private(paths[0]) as portal, _private(paths[1]) as env, ledger.bulk_work():
            result = exports.build_exports(reports.export_credits(session, vault, options["year"], agency, id_range=id_range),
                                           codes.code_table(session), export_day=options["day"],
                                           allow_passport=options["allow_passport"], lines=(portal, env))
        engine.dispose()
        results.put((index, (result.portal_rows, result.env_rows, result.refused)))
    except Exception as err:  # reported to the parent, which raises it
        results.put((index, f"{type(err).__name__}: {err}"))


def _run(target: Callable[..., None], argument_lists: list[tuple[Any, ...]]) -> list[Any]:
    """Run one spawned process per argument list; return their results in order, or raise the first failure."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.queues.Queue[tuple[int, Any]] = context.Queue()
    children = [context.Process(target=target, args=(*args, index, results)) for index, args in enumerate(argument_lists)]
    for child in children:
        child.start()
    found: dict[int, Any] = {}
    try:
        while len(found) < len(children):
            try:
                index, value = results.get(timeout=1)
            except queue_module.Empty:
                dead = [c for i, c in enumerate(children) if i not in found and c.exitcode not in (None, 0)]
                if dead:
                    raise WorkerFailed(f"A certification worker stopped with exit code {dead[0].exitcode}; run the command again.") from None
                continue
            if isinstance(value, str):
                raise WorkerFailed(f"A certification worker failed: {value}")
            found[index] = value
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
    return [found[i] for i in range(len(children))]


def recompute(session: Session, job: Job, years: list[int] | None, agency: str | None = None) -> ledger.RecomputeReport:
    """Recompute the years in `job.workers` processes; return one report as if one process had done it."""
    session.commit()  # the workers must see everything this session wrote
    ranges = person_ranges(session, job.workers, agency)
    merged = ledger.RecomputeReport(sorted(years) if years else [])
    for part in _run(_recompute_range, [(job, years, agency, r) for r in ranges]):
        for name in ("people", "credited", "refused", "inserted", "updated", "revoked", "unchanged", "problem_count"):
            setattr(merged, name, getattr(merged, name) + getattr(part, name))
        merged.problems.extend(part.problems[: ledger.MAX_REPORTED_PROBLEMS - len(merged.problems)])
    return merged


def _lines(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        handle: BinaryIO
        with path.open("rb") as handle:
            yield from handle  # Big5 never uses byte 0x0A inside a character, so lines split cleanly


def export(session: Session, job: Job, *, year: int, agency: str | None, export_day: Any, allow_passport: bool, max_rows: int,
           scratch: Path, sink: exports.Sink) -> exports.ExportResult:
    """Build a year's files in `job.workers` processes and cut them into files of `max_rows` rows, in one process's order."""
    session.commit()  # the workers must see everything this session wrote
    ranges = person_ranges(session, job.workers, agency)
    options = {"year": year, "day": export_day, "allow_passport": allow_passport}
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    own = Path(tempfile.mkdtemp(prefix=".parts-", dir=scratch))  # 0700, and apart from any other export into the folder
    parts = [(own / f"{i}.portal", own / f"{i}.env") for i in range(len(ranges))]
    try:
        outcomes = _run(_export_range, [(job, agency, r, options, (str(p), str(e))) for r, (p, e) in zip(ranges, parts, strict=True)])
        result = exports.ExportResult()
        for portal_rows, env_rows, refused in outcomes:
            result.portal_rows += portal_rows
            result.env_rows += env_rows
            result.refused.extend(refused)
        result.file_names = exports.chunk_files(_lines([p for p, _ in parts]), _lines([e for _, e in parts]),
                                                export_day=export_day, max_rows=max_rows, sink=sink)
        return result
    finally:
        shutil.rmtree(own, ignore_errors=True)
