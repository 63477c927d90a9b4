"""Run `learning-bridge bench lrs` briefly and check that it prints every figure it promises."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from lrs.bench.cli import bench_lrs
from lrs.bench.lrs_bench import percentile, sample_statement
from lrs.xapi.validation import validate_statement


def test_bench_sample_statement_is_valid_and_realistic() -> None:
    """Benchmark with a valid statement of about the issue's 1.6 KB, so validation is really exercised."""
    import random

    import orjson

    stmt = sample_statement(random.Random(1))
    assert validate_statement(stmt, "1.0.3")
    assert 1200 <= len(orjson.dumps(stmt)) <= 2000


def test_bench_percentile_nearest_rank() -> None:
    """Report nearest-rank percentiles in milliseconds."""
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.0)
    assert percentile(values, 0.99) == pytest.approx(99.0)


@pytest.mark.slow
def test_bench_lrs_prints_ingest_ceiling_and_query_figures() -> None:
    """Print ingest for batches 1/10/100 with p50/p99, the raw ceiling and ratio, and query p50/p95."""
    result = CliRunner().invoke(bench_lrs, ["--sizes", "300", "--seconds", "0.3", "--queries", "2", "--clients", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"Validation: [\d.]+ µs per [\d,]+-byte statement", out)
    for batch in ("1", "10", "100"):
        assert re.search(rf"batch +{batch}: +[\d,]+ statements/s +p50 +[\d.]+ ms +p99 +[\d.]+ ms", out), out
    assert re.search(r"raw database ceiling .*: [\d,]+ statements/s", out)
    assert re.search(r"HTTP batch-100 / raw ceiling: [\d.]+", out)
    for case in ("GET by id", "agent (limit 10)", "verb (limit 100)", "related_activities (limit 10)",
                 "related_activities + rare verb (limit 100)", "registration (limit 10)"):
        assert re.search(re.escape(case) + r" +p50 +[\d.]+ ms +p95 +[\d.]+ ms", out), case
