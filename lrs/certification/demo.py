"""Load this area's demo data for `learning-bridge demo` (idempotent).

Registry entries mirror the demo catalog (domain/certification.md §5, suggested codes and hours);
demo people in two agencies, one of them mapped to the demo LMS learner (`{base}/demo`, `demo-learner`),
and a few completions stored in the LRS so the compliance pages have something to show. The ID
numbers are made-up numbers with valid check digits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from lrs.app import get_settings
from lrs.certification import codes, ledger, people, registry, settings
from lrs.certification.models import Course, Person
from lrs.certification.rules import TAIPEI, Segment
from lrs.db import get_db

# (course code, 中文名稱, English title, digital h, physical h, [(code, hours)...], effort h, has test)
DEMO_REGISTRY: tuple[tuple[str, str, str, int, int, list[tuple[str, int]], int | None, bool], ...] = (
    ("UPENN-ECD", "職涯發展英語", "English for Career Development", 20, 0, [("202", 20)], 39, True),
    ("UPENN-EBE", "商業與創業英語", "English for Business and Entrepreneurship", 10, 0, [("202", 10)], None, True),
    ("DLAI-AI4E", "人人都能懂的人工智慧", "AI For Everyone", 6, 0, [("70", 6)], None, True),
    ("WB-F4D", "發展融資", "Financing for Development", 8, 0, [("268", 4), ("14", 4)], None, True),
    ("WB-CE", "公民參與", "Citizen Engagement", 4, 0, [("505", 4)], None, True),
    ("UNDP-SDG", "聯合國 2030 永續發展目標磨課師", "UNDP MOOC on the Agenda 2030 SDGs", 6, 0, [("268", 3), ("339", 3)], None, True),
    ("TED-PAHLKA-2012", "用程式碼打造更好的政府（TED2012）", "Coding a better government", 0, 0, [("124", 0)], None, False),
    ("NACS-GMTD", "全球移動力人才培育英語專班", "Global Mobility Talent Development English Program", 10, 10,
     [("202", 10), ("507", 10)], 20, True),
)
DEMO_AGENCIES = ("379680000A", "360000000G")
# (name, id number, agency index, category, 資安 role, courses completed this year)
DEMO_PEOPLE: tuple[tuple[str, str, int, str, str, tuple[str, ...]], ...] = (
    ("王小華", "A123456789", 0, "permanent", "general", ("UPENN-EBE", "WB-CE", "UNDP-SDG")),
    ("林志明", "B287975311", 0, "permanent", "it", ("UPENN-ECD", "WB-CE")),
    ("陳怡君", "F222222222", 0, "non_permanent", "general", ("DLAI-AI4E",)),
    ("張家豪", "Z111111114", 1, "permanent", "dedicated", ("WB-F4D", "UNDP-SDG", "UPENN-EBE")),
    ("黃美玲", "F131104093", 1, "permanent", "general", ()),
)


def _segments(total: int, physical: int, pairs: list[tuple[str, int]]) -> tuple[str, list[Segment]]:
    """Turn the catalog's full split into a primary code (keeping the remainder) and segments (R10)."""
    primary = pairs[0][0]
    segments = []
    for code, hours in pairs[1:]:
        if physical and code == pairs[-1][0]:
            segments.append(Segment(code, Decimal(0), Decimal(hours)))
        else:
            segments.append(Segment(code, Decimal(hours), Decimal(0)))
    return primary, segments


def _completion(base: str, issuer: str, account: str, code: str, hours: int, at: dt.datetime) -> list[dict[str, Any]]:
    activity = registry.course_activity_id(base, code)
    registration = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}|{account}|{code}"))
    context = {"registration": registration, "extensions": {f"{base}/xapi/extensions/course-code": code}}
    actor = {"objectType": "Agent", "account": {"homePage": issuer, "name": account}}

    def one(verb: str, when: dt.datetime, result: dict[str, Any] | None = None) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{registration}|{verb}")), "actor": actor,
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": activity}, "context": context, "timestamp": when.isoformat(),
        }
        if result:
            statement["result"] = result
        return statement

    score = {"scaled": 0.85, "raw": 85, "min": 0, "max": 100}
    return [
        one("launched", at - dt.timedelta(days=3)),
        one("passed", at - dt.timedelta(minutes=10), {"score": score, "success": True}),
        one("completed", at, {"completion": True, "success": True, "duration": f"PT{hours * 3600}S", "score": score}),
    ]


def load_demo(app: Flask) -> list[str]:
    """Load demo registry entries, people and completions once and return lines to print."""
    from lrs.storage.statements import store_batch

    base = settings.activity_base(app)
    issuer = get_settings(app).public_base_url + "/demo"
    year = dt.datetime.now(TAIPEI).year
    vault = settings.get_vault(app)
    with get_db(app).session() as session:
        if session.scalar(select(Course).where(Course.course_code == DEMO_REGISTRY[0][0])) is not None:
            return ["Certification demo data already loaded (log in as certifier, open /certification)."]
        table = codes.code_table(session)
        for code, title, title_en, digital, physical, pairs, effort, has_test in DEMO_REGISTRY:
            primary, segments = _segments(digital + physical, physical, pairs)
            registry.save_course(session, registry.CourseInput(
                course_code=code, title=title, title_en=title_en, primary_code=primary, digital=Decimal(digital),
                physical=Decimal(physical), class_start=dt.date(year, 1, 1), class_end=dt.date(year, 12, 31),
                has_test=has_test, pass_mark=Decimal(60) if has_test else None, survey_required=has_test,
                provider_effort=Decimal(effort) if effort else None, segments=segments,
                summary=f"{title_en} ({title})",
            ), table, by="demo", base_url=base)
        statements: list[dict[str, Any]] = []
        hours_of = {row[0]: row[3] for row in DEMO_REGISTRY}
        for index, (name, number, agency, category, role, done) in enumerate(DEMO_PEOPLE):
            person = people.find_by_id_number(session, vault, number)
            if person is None:
                person = people.register_person(session, vault, name=name, agency_code=DEMO_AGENCIES[agency],
                                                id_number=number, category=category, security_role=role, by="demo")
            account = "demo-learner" if index == 0 else f"demo-person-{index}"
            people.link_actor(session, person, issuer, account, source="demo", by="demo")
            for n, code in enumerate(done):
                when = dt.datetime(year, 1 + (index + n * 2) % 10, 5 + n, 10, 30, tzinfo=TAIPEI)
                statements.extend(_completion(base, issuer, account, code, hours_of[code], when))
        authority = {"objectType": "Agent", "name": "certification demo", "account": {"homePage": base, "name": "demo"}}
        store_batch(session, statements, authority=authority, version="1.0.3")
        session.flush()
        report = ledger.recompute(session, None)
        count = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1))
    return [f"Certification demo: {len(DEMO_REGISTRY)} registry entries, {count} people, {report.credited} credits "
            f"(the demo learner is 王小華, A12****789, agency {DEMO_AGENCIES[0]}). Log in as certifier and open /certification."]
