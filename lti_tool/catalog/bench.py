"""Measure catalog search speed on a scratch database (figures printed, never asserted)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from lrs.db import Base, make_engine
from lrs.models import import_all_models
from lti_tool.catalog import service
from lti_tool.catalog.demo import demo_rows
from lti_tool.catalog.domain import Status


def run_search_bench(courses: int, queries: int) -> list[str]:
    """Fill a scratch SQLite catalog with copies of the demo courses and time searches on it."""
    import_all_models()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        Base.metadata.create_all(engine)
        from sqlalchemy.orm import Session

        rows = demo_rows()
        started = time.perf_counter()
        with Session(engine) as session:
            for number in range(courses):
                row = dict(rows[number % len(rows)])
                row["code"] = f"{row['code']}-{number}"
                service.create_course(session, service.validate(row), "bench", status=Status.PUBLISHED, sync=False)
            session.commit()
        load = time.perf_counter() - started
        timings: list[float] = []
        terms = ["英語", "永續", "government", "AI", "公民參與", "world bank"]
        with Session(engine) as session:
            for number in range(queries):
                query = service.CourseQuery(q=terms[number % len(terms)], per_page=20)
                begin = time.perf_counter()
                service.find_published(session, query)
                timings.append((time.perf_counter() - begin) * 1000)
        engine.dispose()
    timings.sort()
    return [
        f"catalog: {courses} courses loaded in {load:.1f} s",
        f"search: {queries} queries, median {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95) - 1]:.2f} ms, max {timings[-1]:.2f} ms",
    ]
