"""Command-line commands of this area, added to `learning-bridge` by lti_tool.cli."""

from __future__ import annotations

import click

from lrs.bench import lrs_bench


@click.command("lrs")
@click.option("--sizes", default="100000,1000000", show_default=True, help="Stored-statement counts to time queries at (comma-separated).")
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Duration of each ingest run.")
@click.option("--queries", "rounds", type=int, default=200, show_default=True, help="Requests per query case.")
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn sync workers.")
@click.option("--clients", type=int, default=4, show_default=True, help="Concurrent client threads during ingest.")
@click.option("--postgres", default=None, help="PostgreSQL server URL (postgresql://user@host:port/db); a temporary database is created there and dropped.")
def bench_lrs(sizes: str, seconds: float, rounds: int, workers: int, clients: int, postgres: str | None) -> None:
    """Print LRS ingest rates, the raw database ceiling, validation cost and query latencies."""
    try:
        counts = [int(item) for item in sizes.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter("give whole numbers such as 100000,1000000", param_hint="--sizes") from None
    lrs_bench.run(counts, seconds, rounds, workers, clients, postgres, click.echo)


# Top-level commands or groups, and `learning-bridge bench` subcommands.
commands: list[click.Command] = []
bench_commands: list[click.Command] = [bench_lrs]
