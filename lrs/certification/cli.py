"""Command-line commands of this area: `learning-bridge certification ...` and `learning-bridge bench certification`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.certification import codes, ledger, parallel, people, registry, reports, rules, settings
from lrs.certification.rules import TAIPEI, RuleError
from lrs.db import get_db
from lrs.errors import AppError, BadRequest


def _fail(err: Exception) -> click.ClickException:
    return click.ClickException(getattr(err, "message", None) or str(err))


@click.group("certification")
def certification_group() -> None:
    """Lifelong-learning hour certification: registry, people, ledger, exports."""


@certification_group.command("export")
@click.option("--year", type=int, required=True, help="Calendar (Western) year of the credits, e.g. 2026.")
@click.option("--agency", default=None, help="10-character agency code (機關代碼); omit for every agency.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Folder (default INSTANCE_PATH/exports).")
@click.option("--json", "with_json", is_flag=True, help="Also write the credits as JSON (IDs masked).")
@click.option("--json-ids", is_flag=True, help="Put full ID numbers in the JSON (only for a system that needs them).")
@click.option("--max-rows", type=click.IntRange(1, 3000), default=3000, show_default=True, help="Data rows per file.")
@click.option("--recompute/--no-recompute", default=True, show_default=True, help="Recompute the year from the LRS first.")
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Processes sharing the recomputation and the export by ranges of people (a file or server database).")
@with_appcontext
def export_command(year: int, agency: str | None, out_dir: Path | None, with_json: bool, json_ids: bool, max_rows: int,
                   recompute: bool, workers: int) -> None:
    """Write the portal upload file (25 columns, Big5) and the 環教 file for a year, with refused rows reported."""
    folder = out_dir or settings.export_dir(current_app)
    try:
        with get_db().session() as session:
            job = settings.parallel_job(session, workers)
            if recompute:
                done = (parallel.recompute(session, job, [year], agency) if job is not None
                        else ledger.recompute(session, [year], agency=agency))
                click.echo(f"recomputed {done.people} people: {done.credited} credited, {done.revoked} revoked, {done.problem_count} evidence problems")
            run = reports.run_export(session, settings.get_vault(current_app), year=year, agency=agency, folder=folder,
                                     by="cli", allow_passport=settings.allow_passport(current_app), max_rows=max_rows,
                                     with_json=with_json, json_ids=json_ids, job=job)
    except (AppError, RuleError, ValueError, parallel.WorkerFailed) as err:
        raise _fail(err) from None
    click.echo(f"{run.result.portal_rows} portal rows, {run.result.env_rows} 環教 rows, {len(run.result.refused)} credits refused")
    for refused in run.result.refused:
        click.echo(f"  refused {refused.ref} ({refused.masked_id}, {refused.course_code}): {' '.join(refused.reasons)}")
    for path in run.paths:
        click.echo(f"wrote {path}")


@certification_group.command("check-file")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def check_file_command(paths: tuple[Path, ...]) -> None:
    """Check portal or 環教 upload files (or zips of them) against the format; exit 1 when any problem is found."""
    import zipfile

    from lrs.certification import exports

    with get_db().session() as session:
        table = codes.code_table(session)
    failed = False
    for path in paths:
        members = []
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [(f"{path.name}:{name}", archive.read(name)) for name in archive.namelist()]
        else:
            members = [(path.name, path.read_bytes())]
        for name, data in members:
            problems = exports.check_file(data, table, allow_passport=settings.allow_passport(current_app))
            click.echo(f"{name}: {'ok' if not problems else str(len(problems)) + ' problems'}")
            for problem in problems[:50]:
                click.echo(f"  {problem}")
            failed = failed or bool(problems)
    if failed:
        raise SystemExit(1)


@certification_group.command("recompute")
@click.option("--year", type=int, multiple=True, help="Year(s) to recompute; omit for every year.")
@click.option("--agency", default=None, help="Only this agency's people.")
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Processes sharing the work by ranges of people (a file or server database).")
@with_appcontext
def recompute_command(year: tuple[int, ...], agency: str | None, workers: int) -> None:
    """Recompute the ledger from the LRS's statements (idempotent)."""
    with get_db().session() as session:
        job = settings.parallel_job(session, workers)
        try:
            if job is not None:
                done = parallel.recompute(session, job, list(year) or None, agency)
            else:
                done = ledger.recompute(session, list(year) or None, agency=agency, commit_each_batch=True)
        except parallel.WorkerFailed as err:
            raise _fail(err) from None
    click.echo(json.dumps(done.as_dict(), ensure_ascii=False, indent=1))


@certification_group.command("compliance")
@click.option("--year", type=int, required=True)
@click.option("--agency", default=None)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Date to judge the cut-off against.")
@with_appcontext
def compliance_command(year: int, agency: str | None, today: dt.datetime | None) -> None:
    """List people short of any quota before the counting cut-off (R15)."""
    day = today.date() if today else dt.datetime.now(TAIPEI).date()
    with get_db().session() as session:
        data = reports.agency_compliance(session, year, agency, settings.profile_book(current_app), day, settings.holidays(current_app))
    click.echo(f"{data['compliant']} of {len(data['people'])} people compliant in {year}")
    for warning in data["warnings"]:
        click.echo(f"  {warning['name']} ({warning['id_number']}): {warning['explanation']}")


@certification_group.group("evaluate")
def evaluate_group() -> None:
    """Try the rules on a case without touching the database (R1-R4, R7, R8, R12, R15)."""


def _parse_lines(items: tuple[str, ...]) -> list[rules.CreditLine]:
    out = []
    for item in items:
        parts = item.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("d", "p")):
            raise click.BadParameter(f"{item!r}: write code:hours, or code:hours:d (digital) / :p (physical)")
        hours = rules.parse_hours(parts[1], what=f"hours of {parts[0]}")
        physical = len(parts) == 3 and parts[2] == "p"
        out.append(rules.CreditLine(parts[0], hours, rules.ZERO if physical else hours, hours if physical else rules.ZERO))
    return out


@evaluate_group.command("annual")
@click.argument("credits", nargs=-1)
@click.option("--year", type=int, required=True)
@click.option("--agency", default=None, help="Use this agency's profile (from CERTIFICATION_PROFILES).")
@click.option("--ntut-style", is_flag=True, help="Use the NTUT-style example profile of R2.")
@click.option("--category", type=click.Choice([c.value for c in rules.StaffCategory]), default="permanent", show_default=True)
@click.option("--security-role", type=click.Choice([r.value for r in rules.SecurityRole]), default="none", show_default=True)
@click.option("--previous", multiple=True, help="Last year's credits (for IT staff's two-year 523 rule), as code:hours.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Also show the R15 warning as of this day.")
@with_appcontext
def evaluate_annual(credits: tuple[str, ...], year: int, agency: str | None, ntut_style: bool, category: str, security_role: str,
                    previous: tuple[str, ...], today: dt.datetime | None) -> None:
    """Check a year's credits (code:hours ...) against R1-R3, e.g. `annual --year 2026 501:1 337:3 386:1 502:2 503:2 202:10`."""
    try:
        profile = rules.ntut_style_profile(agency or "AGENCY0000") if ntut_style else settings.profile_book(current_app).resolve(agency, year)
        result = rules.check_compliance(year, _parse_lines(credits), profile, category=rules.StaffCategory(category),
                                        security_role=rules.SecurityRole(security_role), previous_year_lines=_parse_lines(previous))
    except RuleError as err:
        raise _fail(err) from None
    click.echo(f"profile: {profile.name} (from {profile.valid_from})")
    click.echo(f"compliant: {'yes' if result.compliant else 'no'} (learning hours: {'yes' if result.hours_compliant else 'no'}, "
               f"資通安全: {'yes' if result.security_compliant else 'no'})")
    for line in result.explain():
        click.echo(f"  {line}")
    if today is not None:
        warning = rules.deadline_warning(result, profile, today.date(), settings.holidays(current_app))
        click.echo(f"R15: {warning.explanation if warning else 'no warning'}")


@evaluate_group.command("completion")
@click.option("--hours", "hours_text", required=True, help="Certified hours of the course (H).")
@click.option("--pass-mark", default=None, help="Pass mark; omit for 60 with a review flag (R5).")
@click.option("--no-test", is_flag=True, help="The course has no test.")
@click.option("--read-seconds", type=int, required=True)
@click.option("--score", default=None, help="Best score, 0-100.")
@click.option("--survey/--no-survey", default=True, show_default=True)
@click.option("--completed-at", default=None, help="ISO time of completion, e.g. 2025-12-31T23:59:00+08:00 (R8).")
@click.option("--class-start", default=None, help="First day of the class period (R8).")
@click.option("--class-end", default=None, help="Last day of the class period (R8).")
def evaluate_completion(hours_text: str, pass_mark: str | None, no_test: bool, read_seconds: int, score: str | None, survey: bool,
                        completed_at: str | None, class_start: str | None, class_end: str | None) -> None:
    """Decide the hours one completion earns (R4-R6, R8), e.g. `completion --hours 2 --pass-mark 60 --read-seconds 7199 --score 60`."""
    from decimal import Decimal, InvalidOperation

    try:
        terms = rules.CourseTerms(
            hours=rules.parse_hours(hours_text), has_test=not no_test,
            pass_mark=None if pass_mark is None else Decimal(pass_mark),
            class_start=dt.date.fromisoformat(class_start) if class_start else None,
            class_end=dt.date.fromisoformat(class_end) if class_end else None,
        )
        decision = rules.decide_credit(terms, rules.Attempt(Decimal(read_seconds), None if score is None else Decimal(score),
                                                            survey_submitted=survey))
        moment = dt.datetime.fromisoformat(completed_at) if completed_at else None
    except (RuleError, InvalidOperation, ValueError) as err:
        raise click.ClickException(f"Cannot evaluate: {err}") from None
    click.echo(f"credited hours: {rules.format_hours(decision.hours)}")
    for line in decision.explain():
        click.echo(f"  {line}")
    if decision.flags:
        click.echo(f"  flags: {', '.join(decision.flags)}")
    if moment is not None:
        if moment.tzinfo is None:
            raise click.ClickException("Give the completion time with its offset, e.g. +08:00.")
        click.echo(f"  year (R8): {rules.attribute_year(moment)}; {rules.check_class_period(terms, moment).explanation}")


@evaluate_group.command("mooc")
@click.option("--published", required=True, help="Date the grade was published (YYYY-MM-DD).")
@click.option("--applied", required=True, help="Date the learner applied (YYYY-MM-DD).")
@with_appcontext
def evaluate_mooc(published: str, applied: str) -> None:
    """Check a MOOC hours application against the 14-day window and give the upload due date (R12)."""
    try:
        decision = rules.check_mooc_application(dt.date.fromisoformat(published), dt.date.fromisoformat(applied),
                                                settings.holidays(current_app))
    except ValueError as err:
        raise click.ClickException(f"Dates are written YYYY-MM-DD ({err}).") from None
    click.echo(f"{'accepted' if decision.accepted else 'rejected'}: {decision.explanation}")


@certification_group.group("codes")
def codes_group() -> None:
    """The course-category code list (課程類別代碼)."""


@codes_group.command("add")
@click.argument("code")
@click.option("--name", default="", help="The code's name, when known.")
@click.option("--group", "top_group", default="", help="Its top-level group.")
@click.option("--note", default="", help="Where the code was seen.")
@with_appcontext
def codes_add(code: str, name: str, top_group: str, note: str) -> None:
    """Add a code the shipped 2023-08 table lacks (e.g. 539, 540, 541, 546)."""
    try:
        with get_db().session() as session:
            codes.add_code(session, code, name, top_group, note, by="cli")
    except AppError as err:
        raise _fail(err) from None
    click.echo(f"code {code} added")


@codes_group.command("list")
@click.option("--search", default="", help="Only codes whose name or group contains this.")
@with_appcontext
def codes_list(search: str) -> None:
    """List the code list (shipped table plus additions)."""
    with get_db().session() as session:
        for code, entry in sorted(codes.code_table(session).items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0):
            if search in entry.name or search in entry.top_group:
                click.echo(f"{code}\t{entry.name}\t{entry.top_group}")


@certification_group.group("registry")
def registry_group() -> None:
    """The hour registry of certifiable courses."""


@registry_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default="imported", show_default=True)
@with_appcontext
def registry_import(path: Path, reason: str) -> None:
    """Create or update registry entries from a JSON list (fields as in registry.course_input_from_dict)."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise click.ClickException(f"{path} is not JSON: {err}") from None
    saved = failed = 0
    for index, item in enumerate(items if isinstance(items, list) else [items], start=1):
        try:
            with get_db().session() as session:
                registry.save_course(session, registry.course_input_from_dict(item), codes.code_table(session), by="cli",
                                     reason=reason, base_url=settings.activity_base(current_app))
            saved += 1
        except AppError as err:
            failed += 1
            click.echo(f"entry {index} ({item.get('course_code', '?') if isinstance(item, dict) else '?'}): {err.message}", err=True)
    click.echo(f"{saved} saved, {failed} refused")


@registry_group.command("list")
@with_appcontext
def registry_list() -> None:
    """List the registry entries."""
    from sqlalchemy import select

    from lrs.certification.models import Course

    with get_db().session() as session:
        for course in session.scalars(select(Course).order_by(Course.course_code)):
            snap = registry.course_snapshot(course)
            click.echo(f"{snap['course_code']}\t{snap['primary_code']}\t{snap['digital']}+{snap['physical']} h\tv{snap['version']}\t{snap['title']}")


@certification_group.group("people")
def people_group() -> None:
    """People and their LRS actors."""


@people_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def people_import(path: Path) -> None:
    """Import people from UTF-8 CSV: id_number,name,agency_code[,category,security_role,birthday,home_page,account_name]."""
    vault = settings.get_vault(current_app)
    added = refused = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                with get_db().session() as session:
                    person = people.find_by_id_number(session, vault, row.get("id_number", ""))
                    if person is None:
                        person = people.register_person(
                            session, vault, name=row.get("name", ""), agency_code=row.get("agency_code", ""),
                            id_number=row.get("id_number", ""), category=row.get("category") or "permanent",
                            security_role=row.get("security_role") or "general", birthday=_birthday(row.get("birthday")),
                            allow_passport=settings.allow_passport(current_app), by="cli")
                    if row.get("home_page") and row.get("account_name"):
                        people.link_actor(session, person, row["home_page"], row["account_name"], source="import", by="cli")
                added += 1
            except AppError as err:
                refused += 1
                click.echo(f"line {line}: {err.message}", err=True)  # messages never contain the ID in clear
    click.echo(f"{added} imported, {refused} refused")


def _birthday(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest("The birthday must be a date such as 1980-05-17.") from None


@click.command("certification")
@click.option("--people", "people_count", type=click.IntRange(1, 1_000_000), default=100_000, show_default=True)
@click.option("--completions", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--year", type=int, default=2026, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the benchmark database and files.")
@click.option("--workers", type=click.IntRange(1, 16), default=None,
              help="Processes for recomputation and export (default CERTIFICATION_BENCH_WORKERS, else one per core, at most 2).")
@with_appcontext
def bench_certification(people_count: int, completions: int, year: int, keep: bool, workers: int | None) -> None:
    """Recompute a year for N people x M completions on a scratch database and write the exports; print time and memory."""
    from lrs.certification.bench import run_bench

    for line in run_bench(current_app, people_count, completions, year, keep=keep, workers=workers):
        click.echo(line)


commands: list[click.Command] = [certification_group]
bench_commands: list[click.Command] = [bench_certification]
