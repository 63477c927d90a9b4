"""Benchmark: recompute a year for N people x M completions from statements and write the exports.

Runs on a scratch SQLite database in a temporary folder (never the configured one). Setup (people,
registry, statements inserted straight into `lrs_statement`) is not timed; the timed part is the
ledger recomputation and the export (decrypting every ID, Big5 files, zip), run in its own process
so that its peak resident memory is reported apart from the setup's. CPU time is printed beside wall
time because the machine may be shared.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.queues
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from lrs.certification import codes, evidence, idno, ledger, parallel, registry, reports, rules
from lrs.certification.models import ActorLink, Person
from lrs.certification.rules import TAIPEI, Segment
from lrs.db import Base, make_engine
from lrs.models import import_all_models
from lrs.storage.models import Statement

ISSUER = "https://bench-lms.example.gov.tw"
BASE = "https://bench.example.gov.tw"


def _national_id(n: int) -> str:
    letter = "ABCDEFGHJKLMNPQRSTUVXYWZIO"[n % 26]
    prefix = f"{letter}{1 + n % 2}{n % 10_000_000:07d}"
    for digit in "0123456789":
        if idno.is_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("no check digit")


def _own_peak_mb() -> float:
    """Return this process's peak resident memory since it started (VmHWM, which exec resets)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_mb()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_part(url: str, keys_dir: str, year: int, out: str, queue: multiprocessing.queues.Queue[list[str]], workers: int = 1) -> None:
    """Recompute the year and write the exports (in `workers` processes by ranges of people), timing both."""
    import_all_models()
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    vault = idno.IdVault(idno.load_secret(Path(keys_dir)))
    t1, c1 = time.perf_counter(), time.process_time()
    with sessions() as session:
        job = parallel.Job.for_session(session, Path(keys_dir), None, workers)
        if job is not None:
            report = parallel.recompute(session, job, [year])
        else:
            report = ledger.recompute(session, [year], batch_size=2000, commit_each_batch=True)
            session.commit()
    t2, c2, w2 = time.perf_counter(), time.process_time(), _children_cpu()
    with sessions() as session:
        run = reports.run_export(session, vault, year=year, agency=None, folder=Path(out), by="bench", job=job)
        session.commit()
    t3, c3, w3 = time.perf_counter(), time.process_time(), _children_cpu()
    engine.dispose()
    queue.put([
        f"recompute: {report.credited} credited, {report.refused} refused in {t2 - t1:.1f} s "
        f"({c2 - c1 + w2:.1f} s CPU, {workers} process(es))",
        f"export: {run.result.portal_rows} portal rows, {run.result.env_rows} 環教 rows, {len(run.result.file_names)} files "
        f"zipped, {len(run.result.refused)} refused in {t3 - t2:.1f} s ({c3 - c2 + w3 - w2:.1f} s CPU, {workers} process(es))",
        f"total (recompute + export): {t3 - t1:.1f} s wall, {c3 - c1 + w3:.1f} s CPU",
        f"peak memory of recompute + export: {_own_peak_mb():.0f} MB in the main process"
        + (f", {_children_peak_mb():.0f} MB in the largest worker process" if workers > 1 else ""),
    ])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _body(sid: str, actor: str, verb: str, activity: str, when: dt.datetime, registration: str | None,
          result: dict[str, Any] | None, context: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = dict(context or {})
    if registration:
        ctx["registration"] = registration
    body: dict[str, Any] = {"id": sid, "actor": {"objectType": "Agent", "account": {"homePage": ISSUER, "name": actor}},
                            "verb": {"id": verb}, "object": {"objectType": "Activity", "id": activity},
                            "timestamp": when.isoformat(), "version": "1.0.0"}
    if result is not None:
        body["result"] = result
    if ctx:
        body["context"] = ctx
    return body


def _row(body: dict[str, Any], stored: dt.datetime, *, voided: bool = False) -> dict[str, Any]:
    actor = body["actor"]["account"]
    return {"statement_id": body["id"], "body": orjson.dumps(body).decode(), "actor_key": f"account:{ISSUER}|{actor['name']}",
            "verb_id": body["verb"]["id"], "object_type": "Activity", "object_activity_id": body["object"]["id"],
            "registration": (body.get("context") or {}).get("registration"), "stored": stored,
            "timestamp": dt.datetime.fromisoformat(body["timestamp"]), "voided": voided, "version": "1.0.0"}


def _edge_rows(rng: random.Random, n: int, activities: list[str], year: int, stored: dt.datetime) -> list[dict[str, Any]]:
    """Return the unusual statements of person n: failed tests, late years, voiding, missing fields, mismatches."""
    actor, out = f"u{n}", []
    activity = activities[n % len(activities)]
    reg = _uuid(rng)
    if n % 7 == 3:  # a failed test below the pass mark, then a completion: the best score decides
        when = dt.datetime(year, 5, 2, 9, 0, tzinfo=TAIPEI)
        out.append(_body(_uuid(rng), actor, evidence.VERB_FAILED, activity, when, reg, {"score": {"raw": 40, "min": 0, "max": 100}}))
        out.append(_body(_uuid(rng), actor, evidence.VERB_LAUNCHED, activity, when - dt.timedelta(days=3), reg, None))
        out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activity, when + dt.timedelta(hours=1), reg,
                         {"completion": True, "duration": "PT1H59M59S", "score": {"scaled": 0.6}}))
    if n % 11 == 5:  # a completion without duration and a passed without score: reported problems
        when = dt.datetime(year, 6, 3, 9, 0, tzinfo=TAIPEI)
        out.append(_body(_uuid(rng), actor, evidence.VERB_PASSED, activity, when, reg, {"success": True}))
        out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activity, when, reg, {"completion": True, "score": {"raw": 60, "max": 100}}))
    if n % 13 == 1:  # completed on 31 December 23:59 Taipei, and the year before: a cross-year repeat
        for when in (dt.datetime(year, 12, 31, 23, 59, tzinfo=TAIPEI), dt.datetime(year - 1, 12, 31, 23, 59, 59, tzinfo=TAIPEI),
                     dt.datetime(year + 1, 1, 1, 0, 0, tzinfo=TAIPEI)):
            out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activities[-1], when, _uuid(rng),
                             {"completion": True, "duration": "PT2H", "score": {"raw": 9, "min": 0, "max": 10}}))
    if n % 17 == 2:  # a progressed statement, a survey refused by extension, a course-code mismatch
        when = dt.datetime(year, 8, 8, 8, 0, tzinfo=TAIPEI)
        out.append(_body(_uuid(rng), actor, evidence.VERB_PROGRESSED, activity, when, None, {"duration": "PT3H"}))
        out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activity, when, None,
                         {"completion": True, "duration": "PT3H", "score": {"raw": 100, "max": 100},
                          "extensions": {"https://x.test/xapi/extensions/survey-submitted": False}}))
        out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activities[0], when, None,
                         {"completion": True, "duration": "PT9H"}, {"extensions": {"https://x.test/xapi/extensions/course-code": "NOPE"}}))
    if n % 19 == 4:  # completion:false and an unparsable score
        when = dt.datetime(year, 9, 9, 9, 0, tzinfo=TAIPEI)
        out.append(_body(_uuid(rng), actor, evidence.VERB_COMPLETED, activity, when, _uuid(rng),
                         {"completion": False, "duration": "PT5H", "score": {"raw": "x"}}))
    return [_row(body, stored) for body in out]


def populate(session: Session, vault: idno.IdVault, people_count: int, completions: int, year: int, *,
             edge_cases: bool = False, seed: int = 8) -> None:
    """Create the registry, people and statements of a benchmark (deterministic for a seed); commit."""
    rng = random.Random(seed)  # noqa: S311  # reproducible test data, not secrets
    table = codes.code_table(session)
    course_ids = []
    for i in range(completions):
        code = ("202", "337", "501", "386", "503", "7", "268", "522")[i % 8]
        segs = [Segment("386", rules.parse_hours(1), rules.parse_hours(0))] if i % 5 == 4 else []
        data = registry.CourseInput(
            course_code=f"BENCH-{i:03d}", title=f"國際課程 {i}" if i % 9 != 6 else f'碁"恒" 課程 {i}', primary_code=code,
            digital=rules.parse_hours(2), physical=rules.parse_hours(0), class_start=dt.date(year, 1, 1),
            class_end=dt.date(year, 12, 31), pass_mark=rules.parse_hours(60), provider_effort=rules.parse_hours(10), segments=segs,
        )
        if edge_cases and i == completions - 1:
            data.cross_year_repeat = True
            data.class_start = dt.date(year - 1, 1, 1)
            data.class_end = dt.date(year + 1, 12, 31)
        course = registry.save_course(session, data, table, by="", base_url=BASE)
        course_ids.append(course.activity_id)
    session.commit()
    stored = dt.datetime(year + 1, 2, 1, tzinfo=dt.UTC)
    for start in range(0, people_count, 5000):
        persons, links = [], []
        for n in range(start, min(start + 5000, people_count)):
            sealed = vault.seal(_national_id(n))
            name = f"測試{n}"
            if edge_cases and n % 23 == 7:
                name = ("王😀明", '李"小"華', "  陳碁恒  ")[n % 3]  # not Big5 (refused), a quote, ETEN and spaces
            persons.append({"id": n + 1, "name": name, "agency_code": f"{n % 50:09d}A", "category": "permanent",
                            "security_role": "general", "id_kind": sealed.kind.value, "id_cipher": sealed.cipher,
                            "id_lookup": sealed.lookup, "id_masked": sealed.masked,
                            "birthday": dt.date(1980 + n % 20, 1 + n % 12, 1 + n % 28) if edge_cases and n % 3 == 0 else None})
            if not (edge_cases and n % 29 == 9):  # some actors are not mapped to anyone
                links.append({"person_id": n + 1, "home_page": ISSUER, "account_name": f"u{n}", "actor_key": f"account:{ISSUER}|u{n}"})
        session.execute(insert(Person), persons)
        session.execute(insert(ActorLink), links)
        rows = []
        for n in range(start, min(start + 5000, people_count)):
            for c, activity in enumerate(course_ids):
                when = dt.datetime(year, 1 + (n + c) % 12, 1 + (n * 7 + c) % 28, 10, 0, tzinfo=TAIPEI)
                seconds = 7200 if (n + c) % 20 else 7199  # one completion in 20 is a second short
                body = _body(_uuid(rng), f"u{n}", evidence.VERB_COMPLETED, activity, when, _uuid(rng),
                             {"completion": True, "success": True, "duration": f"PT{seconds}S",
                              "score": {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}})
                rows.append(_row(body, stored, voided=edge_cases and (n + c) % 31 == 0))
            if edge_cases:
                rows.extend(_edge_rows(rng, n, course_ids, year, stored))
        session.execute(insert(Statement), rows)
        session.commit()


def run_bench(app: Flask, people_count: int, completions: int, year: int, *, keep: bool = False,
              workers: int | None = None) -> Iterator[str]:
    """Build the scratch data, time recomputation and export, and yield the figures as lines.

    Recomputation and export are shared by `workers` processes by ranges of people (default: the
    `CERTIFICATION_BENCH_WORKERS` environment variable, else one per core, at most 2). On the quiet
    2-core machine, 100,000 people x 20 took 35.1-43.0 s with 2 workers (recompute 22.0-25.7 s, export 13.0-17.2 s);
    a machine loaded by other work gains little from the second.
    """
    default = str(min(2, os.cpu_count() or 1))
    workers = workers or max(1, int(os.environ.get("CERTIFICATION_BENCH_WORKERS", default) or default))
    import_all_models()
    folder = Path(tempfile.mkdtemp(prefix="lb-bench-cert-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    keys_dir = folder / "keys"  # the workers read the ID key as the app does, from KEYS_DIR
    vault = idno.IdVault(idno.load_secret(keys_dir))
    try:
        t0 = time.perf_counter()
        with sessions() as session:
            populate(session, vault, people_count, completions, year)
        yield f"setup: {people_count} people x {completions} completions ({people_count * completions} statements) in {time.perf_counter() - t0:.1f} s"

        # The timed part runs in a fresh process, so its peak memory is measured apart from the setup's.
        engine.dispose()
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.queues.Queue[list[str]] = context.Queue()
        child = context.Process(target=_timed_part, args=(url, str(keys_dir), year, str(folder / "exports"), queue, workers))
        child.start()
        lines = queue.get()
        child.join()
        yield from lines
        yield f"peak memory of the setup process: {_peak_mb():.0f} MB"
        yield "targets: 100,000 people x 20 completions under 60 s and under 1 GB"
    finally:
        engine.dispose()
        if keep:
            yield f"kept {folder}"
        else:
            shutil.rmtree(folder, ignore_errors=True)
