"""Command-line commands of this area, added to `learning-bridge` by lti_tool.cli."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import click
import orjson
from flask.cli import with_appcontext
from sqlalchemy import delete, select

from lrs.db import get_db
from lrs.errors import AppError


@click.group("learning")
def learning_group() -> None:
    """Manage the learner player: quiz question banks."""


@learning_group.command("questions-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def questions_import(file: Path) -> None:
    """Replace the question banks of the courses a JSON file names (all or nothing)."""
    from lti_tool.learning.bank import parse_bank
    from lti_tool.learning.models import LearningQuestion

    try:
        banks = parse_bank(orjson.loads(file.read_bytes()))
    except orjson.JSONDecodeError as err:
        raise click.ClickException(f"{file} is not JSON ({err.msg} at position {err.pos}).") from None
    except AppError as err:
        raise click.ClickException(err.message) from None
    with get_db().session() as session:
        for code, questions in banks.items():
            session.execute(delete(LearningQuestion).where(LearningQuestion.course_code == code))
            for position, question in enumerate(questions):
                session.add(LearningQuestion(
                    course_code=code, key=question.key, position=position, prompt_en=question.prompt_en,
                    prompt_zh=question.prompt_zh, choices_json=orjson.dumps(question.choices).decode(),
                    answer=question.answer))
    for code, questions in banks.items():
        click.echo(f"{code}: {len(questions)} questions")


@learning_group.command("questions-list")
@click.argument("course")
@with_appcontext
def questions_list(course: str) -> None:
    """Show a course's question bank."""
    from lti_tool.learning.models import LearningQuestion

    with get_db().session() as session:
        rows = list(session.scalars(select(LearningQuestion).where(LearningQuestion.course_code == course.upper())
                                    .order_by(LearningQuestion.position)))
        if not rows:
            click.echo(f"{course.upper()} has no questions.")
        for row in rows:
            click.echo(f"{row.key}: {row.prompt_en} [answer {row.answer}]")


@click.command("heartbeats")
@click.option("--learners", type=int, default=20, show_default=True, help="Enrollments beating in turn.")
@click.option("--beats", type=int, default=2000, show_default=True, help="Heartbeats to send in all.")
def bench_heartbeats(learners: int, beats: int) -> None:
    """Measure heartbeat requests per second on a scratch SQLite database (HTTP through the WSGI app)."""
    import datetime as dt
    import re

    from alembic import command

    import lti_tool
    from lrs.db import Base, alembic_config, make_engine, utcnow
    from lrs.models import import_all_models
    from lti_tool.catalog.models import CatalogCourse, CatalogProvider
    from lti_tool.learning import service
    from lti_tool.learning.tokens import player_token

    import_all_models()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.stamp(config, "head")
        engine.dispose()
        app = lti_tool.create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "KEYS_DIR": str(Path(folder) / "keys"),
                                   "SECRET_KEY": "bench-secret-key-" + "x" * 20})
        now = [utcnow()]
        app.extensions[service.CLOCK_KEY] = lambda: now[0]
        with get_db(app).session() as session:
            provider = CatalogProvider(key="bench", name_en="Bench", name_zh="測試", country="TW")
            session.add(provider)
            session.flush()
            session.add(CatalogCourse(code="BENCH", status="published", title_en="Bench", title_zh="測試",
                                      provider_id=provider.id, format="talk", url="https://example.org",
                                      hours_tenths=10))
        client = app.test_client()
        tabs: list[str] = []
        for number in range(learners):
            with app.test_request_context(), get_db(app).session() as session:
                launch = service.LearnerLaunch(issuer="https://lms.bench", sub=f"u{number}", resource_link_id="rl",
                                               custom={"catalog_course": "BENCH"})
                enrollment = service.enroll(session, launch, service.load_course(session, "BENCH"))
                enrollment_id = enrollment.id
            with app.test_request_context():
                token = player_token(enrollment_id)
            page = client.get(f"/learn/{token}").get_data(as_text=True)
            match = re.search(r'var tab = "([^"]+)"', page)
            assert match
            tabs.append(match.group(1))
        timings: list[float] = []
        started = time.perf_counter()
        for beat in range(beats):
            if beat % learners == 0:
                now[0] += dt.timedelta(seconds=30)
            begin = time.perf_counter()
            response = client.post("/learn/api/heartbeat", json={"tab": tabs[beat % learners], "seq": beat // learners + 1})
            timings.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                raise click.ClickException(f"heartbeat answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        elapsed = time.perf_counter() - started
        get_db(app).dispose()
    timings.sort()
    click.echo(f"heartbeats: {beats} from {learners} learners on SQLite in {elapsed:.2f} s = {beats / elapsed:.0f}/s "
               f"(one process, no network); p50 {statistics.median(timings):.2f} ms, "
               f"p99 {timings[int(len(timings) * 0.99) - 1]:.2f} ms")


# Top-level commands or groups (for example `catalog`), and `learning-bridge bench` subcommands.
commands: list[click.Command] = [learning_group]
bench_commands: list[click.Command] = [bench_heartbeats]
