"""Command-line commands of this area, added to `learning-bridge` by lti_tool.cli."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.db import get_db
from lrs.errors import AppError
from lti_tool.catalog import importer, linkcheck, service


@click.group("catalog")
def catalog_group() -> None:
    """Import, export and check the international learning zone's catalog."""


@catalog_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", "update_existing", is_flag=True, help="Update courses whose code already exists.")
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are refused.")
@click.option("--check-only", is_flag=True, help="Check every row and report, without writing anything.")
@click.option("--actor", default="cli", show_default=True, help="Name recorded in each course's history.")
@with_appcontext
def import_command(file: Path, update_existing: bool, partial: bool, check_only: bool, actor: str) -> None:
    """Import courses from a CSV or JSON file, checking every row; nothing is half-imported."""
    max_rows = int(current_app.config.get("CATALOG_IMPORT_MAX_ROWS", importer.DEFAULT_MAX_ROWS))
    max_bytes = int(current_app.config.get("CATALOG_IMPORT_MAX_BYTES", importer.DEFAULT_MAX_BYTES))
    with file.open("rb") as handle:
        content = handle.read(max_bytes + 1)

    def progress(done: int, total: int) -> None:
        click.echo(f"checked {done}/{total} rows", err=True)

    try:
        rows = importer.parse_rows(content, file.name, max_rows=max_rows, max_bytes=max_bytes)
        with get_db().session() as session:
            if check_only:
                report, accepted = importer.check_rows(session, rows, update_existing=update_existing,
                                                       progress=progress)
                report.message = (f"Checked {report.total} rows: {len(accepted)} would be imported, "
                                  f"{len(report.refused)} refused; nothing was written.")
            else:
                report = importer.import_rows(session, rows, actor, update_existing=update_existing,
                                              partial=partial, progress=progress)
    except AppError as err:
        raise click.ClickException(err.message) from None
    for row in report.refused:
        for problem in row.problems:
            where = f" {problem['field']}" if problem["field"] else ""
            click.echo(f"row {row.row} {row.code or '-'}{where}: {problem['message']}")
    click.echo(report.message)
    if report.refused and (check_only or not report.written):
        sys.exit(1)


@catalog_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@with_appcontext
def export_command(fmt: str, output: Path | None) -> None:
    """Export every course as CSV or JSON that `catalog import` reads back."""
    with get_db().session() as session:
        data = importer.export_csv(session).encode() if fmt == "csv" else importer.export_json(session)
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {output}.", err=True)


@catalog_group.command("check-links")
@click.option("--code", "codes", multiple=True, help="Check only these course codes.")
@with_appcontext
def check_links_command(codes: tuple[str, ...]) -> None:
    """Check every course address (bounded time, size and concurrency) and record the results."""
    started = time.monotonic()

    def show(course: object, found: linkcheck.LinkResult) -> None:
        click.echo(f"{getattr(course, 'code', '')}\t{found.outcome}\t{found.http_status or '-'}\t{found.detail}")

    counts = linkcheck.check_catalog_links(current_app, codes=[c.upper() for c in codes], progress=show)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "no courses"
    click.echo(f"Checked in {time.monotonic() - started:.1f} s: {summary}.")
    dead = sum(counts.get(outcome, 0) for outcome in service.DEAD_OUTCOMES)
    if dead:
        click.echo(f"{dead} dead links are flagged on the curation dashboard.")


@click.command("catalog-search")
@click.option("--courses", default=2000, show_default=True, help="Courses to create in a scratch SQLite database.")
@click.option("--queries", default=200, show_default=True)
def bench_search(courses: int, queries: int) -> None:
    """Time catalog searches (Chinese and English) over a scratch catalog and print the figures."""
    from lti_tool.catalog.bench import run_search_bench

    for line in run_search_bench(courses, queries):
        click.echo(line)


# Top-level commands or groups (for example `catalog`), and `learning-bridge bench` subcommands.
commands: list[click.Command] = [catalog_group]
bench_commands: list[click.Command] = [bench_search]
