"""Load this area's demo data for `learning-bridge demo` (idempotent): quiz questions for the demo courses.

A few demo courses get questions about their content; every other demo course with a test gets
three questions built from its catalog record (provider, certified hours, platform), so that each
course can be completed end to end from the demo LMS. The survey is the same for every course.
"""

from __future__ import annotations

import orjson
from flask import Flask
from sqlalchemy import select

from lrs.db import get_db
from lti_tool.catalog.models import CatalogCourse
from lti_tool.learning.models import LearningQuestion

Choice = tuple[str, str]  # (English, Chinese)
# code -> [(prompt_en, prompt_zh, [choices], index of the right choice)]
BANKS: dict[str, list[tuple[str, str, list[Choice], int]]] = {
    "WB-CE": [
        ("What does citizen engagement add to public projects, in the course's words?", "依課程所述，公民參與為公共計畫帶來什麼？",
         [("Better results through citizens' feedback", "透過公民回饋獲得更好的成果"), ("Lower tax rates", "較低的稅率"),
          ("Fewer public servants", "較少的公務人員")], 0),
        ("Which is a citizen-engagement mechanism?", "下列何者是公民參與機制？",
         [("Participatory budgeting", "參與式預算"), ("Closed tendering", "限制性招標"), ("Secret ballots of officials", "官員秘密投票")], 0),
        ("Who offers this MOOC?", "本課程由誰開設？",
         [("The World Bank", "世界銀行"), ("UNESCO", "聯合國教科文組織"), ("OECD", "經濟合作暨發展組織")], 0),
    ],
    "DLAI-AI4E": [
        ("What is machine learning best described as?", "機器學習最適合的描述是？",
         [("Learning input-to-output mappings from data", "從資料學習輸入到輸出的對應"), ("Writing every rule by hand", "以人工撰寫每一條規則"),
          ("A kind of database", "一種資料庫")], 0),
        ("Which is a good first AI project for an agency?", "機關的第一個人工智慧專案宜選擇？",
         [("A small, valuable task with data available", "有資料、規模小且有價值的任務"), ("Replacing every service at once", "一次取代所有服務"),
          ("One without any data", "完全沒有資料的專案")], 0),
        ("Who teaches AI For Everyone?", "「AI For Everyone」由誰授課？",
         [("Andrew Ng", "吳恩達"), ("Jennifer Pahlka", "珍妮佛．帕卡"), ("Beth Noveck", "貝絲．諾維克")], 0),
    ],
}


def _generated(course: CatalogCourse, others: list[CatalogCourse]) -> list[tuple[str, str, list[Choice], int]]:
    providers = [course.provider.name_en] + [o.provider.name_en for o in others if o.provider.name_en != course.provider.name_en]
    providers_zh = {o.provider.name_en: o.provider.name_zh for o in [course, *others]}
    wrong = list(dict.fromkeys(providers[1:]))[:2]
    hours = course.hours
    return [
        ("Which institution provides this course?", "本課程由哪一個機構提供？",
         [(name, providers_zh.get(name, name)) for name in [course.provider.name_en, *wrong]], 0),
        ("How many certified lifelong-learning hours does this course carry?", "本課程可認證多少終身學習時數？",
         [(f"{hours} h", f"{hours} 小時"), (f"{hours * 2} h", f"{hours * 2} 小時"), ("0 h", "0 小時")], 0),
        ("Which three conditions complete a course here?", "在本平臺完成課程須符合哪三項條件？",
         [("Reading time, quiz and survey", "閱讀時數、測驗與問卷"), ("Attendance only", "僅需出席"),
          ("A certificate from the LMS", "學習平臺發給的證書")], 0),
    ]


def load_demo(app: Flask) -> list[str]:
    """Give every published demo course with a test a question bank, once."""
    added = 0
    with get_db(app).session() as session:
        courses = list(session.scalars(select(CatalogCourse).where(CatalogCourse.status == "published")))
        have = set(session.scalars(select(LearningQuestion.course_code).distinct()))
        for course in courses:
            if not course.has_test or course.code in have:
                continue
            bank = BANKS.get(course.code) or _generated(course, [c for c in courses if c.code != course.code])
            for position, (prompt_en, prompt_zh, listed, right) in enumerate(bank):
                keys = "abc"
                # Rotate the choices so that the right answer is not always the first.
                shift = position % len(listed)
                choices = listed[-shift:] + listed[:-shift] if shift else listed
                right = (right + shift) % len(listed)
                session.add(LearningQuestion(
                    course_code=course.code, key=f"q{position + 1}", position=position,
                    prompt_en=prompt_en, prompt_zh=prompt_zh, answer=keys[right],
                    choices_json=orjson.dumps([{"key": keys[i], "en": en, "zh": zh}
                                               for i, (en, zh) in enumerate(choices)]).decode(),
                ))
            added += 1
    return [f"Learning player: quiz questions for {added} demo courses."
            if added else "Learning player: demo quiz questions already loaded."]
