"""Load the demo catalog for `learning-bridge demo` (idempotent).

The courses, talks and programmes are the real ones listed in domain/certification.md section 5,
with the providers, addresses, effort, suggested category codes and suggested certified hours of
that table. Suggested codes and hours are proposals for the course recommendation committee
([inf] in the source); where the table offers two codes, the hours are split between them (R10).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from lrs.db import get_db, utcnow
from lti_tool.catalog import service
from lti_tool.catalog.domain import Status
from lti_tool.catalog.models import CatalogCourse

DEMO_ACTOR = "demo"

PROVIDERS: dict[str, dict[str, str]] = {
    "upenn": {"provider_name_en": "University of Pennsylvania", "provider_name_zh": "美國賓州大學",
              "provider_country": "US", "provider_type": "university", "provider_website": "https://www.upenn.edu/"},
    "deeplearning-ai": {"provider_name_en": "DeepLearning.AI", "provider_name_zh": "DeepLearning.AI",
                        "provider_country": "US", "provider_type": "company"},
    "world-bank": {"provider_name_en": "World Bank Group", "provider_name_zh": "世界銀行",
                   "provider_country": "US", "provider_type": "international_organisation",
                   "provider_website": "https://www.worldbank.org/"},
    "undp": {"provider_name_en": "United Nations Development Programme", "provider_name_zh": "聯合國開發計畫署",
             "provider_country": "US", "provider_type": "international_organisation",
             "provider_website": "https://www.undp.org/"},
    "ted": {"provider_name_en": "TED", "provider_name_zh": "TED", "provider_country": "US",
            "provider_type": "nonprofit", "provider_website": "https://www.ted.com/"},
    "nacs": {"provider_name_en": "National Academy of Civil Service", "provider_name_zh": "國家文官學院",
             "provider_country": "TW", "provider_type": "government", "provider_website": "https://www.nacs.gov.tw/"},
}

_MOOC = {"format": "mooc", "kind": "course", "has_test": "yes", "survey_required": "yes", "cross_year_repeat": "no",
         "licence_holder": "所有公務人員 All civil servants (open enrolment)",
         "licence_agreement": "Provider's open online course terms (free to audit)"}
_TALK = {"format": "talk", "kind": "resource", "has_test": "no", "survey_required": "no", "cross_year_repeat": "no",
         "hours": "0", "licence_holder": "Everyone", "licence_agreement": "TED talks: CC BY-NC-ND 4.0"}
_UPENN_ENGLISH = "https://penntoday.upenn.edu/news/penn-launches-online-courses-english-language-learners-summer"
_WB_MOOCS = "https://blogs.worldbank.org/en/voices/scaling-development-learning-moocs"

DEMO_COURSES: list[dict[str, Any]] = [
    {**_MOOC, "code": "UPENN-ECD", "provider_key": "upenn", "platform": "Coursera",
     "title_en": "English for Career Development", "title_zh": "職涯發展英語",
     "description_en": "A University of Pennsylvania MOOC on Coursera, funded by the US Department of State, that has reached more than a million learners: English for job searching, applications and interviews.",
     "description_zh": "美國賓州大學於 Coursera 開設、美國國務院資助的磨課師，學習人數逾百萬：求職、申請與面試所需的英語。",
     "url": "https://www.onlinelearning.upenn.edu/elp-mooc-english-career-development-reaches-1-million-learners",
     "languages": "en", "effort": "5 modules, ~39 instructional hours, 4 weeks", "effort_hours": "39",
     "hours": "20", "segments": "202:20", "topics": "英語 English; 職涯 Career", "tags": "Coursera; UPenn"},
    {**_MOOC, "code": "UPENN-EBE", "provider_key": "upenn", "platform": "Coursera",
     "title_en": "English for Business and Entrepreneurship", "title_zh": "商業與創業英語",
     "description_en": "The University of Pennsylvania's highest-rated new English-language course: business and entrepreneurship vocabulary, reading and presentation.",
     "description_zh": "美國賓州大學評價最高的新英語課程：商業與創業的字彙、閱讀與簡報。",
     "url": "http://www.sas.upenn.edu/lps/about/news/english-language-programs-and-online-learning-celebrate-highest-rated-new-course",
     "languages": "en", "effort": "MOOC, several weeks", "hours": "10", "segments": "202:10",
     "topics": "英語 English; 商業 Business", "tags": "Coursera; UPenn"},
    {**_MOOC, "code": "UPENN-EML", "provider_key": "upenn", "platform": "Coursera",
     "title_en": "English for Media Literacy", "title_zh": "媒體素養英語",
     "description_en": "English for reading, judging and discussing news and media messages, from the University of Pennsylvania's English Language Programs.",
     "description_zh": "美國賓州大學英語課程：以英語閱讀、判斷與討論新聞及媒體訊息。",
     "url": _UPENN_ENGLISH, "languages": "en", "hours": "10", "segments": "202:10",
     "topics": "英語 English; 媒體識讀 Media literacy", "tags": "Coursera; UPenn"},
    {**_MOOC, "code": "UPENN-EJ", "provider_key": "upenn", "platform": "Coursera",
     "title_en": "English for Journalism", "title_zh": "新聞英語",
     "description_en": "English for reporting and writing news, from the University of Pennsylvania's English Language Programs.",
     "description_zh": "美國賓州大學英語課程：新聞採訪與寫作的英語。",
     "url": _UPENN_ENGLISH, "languages": "en", "hours": "10", "segments": "202:10",
     "topics": "英語 English; 媒體識讀 Media literacy", "tags": "Coursera; UPenn"},
    {**_MOOC, "code": "UPENN-ESTEM", "provider_key": "upenn", "platform": "Coursera",
     "title_en": "English for STEM", "title_zh": "科學、科技、工程與數學英語",
     "description_en": "English for science, technology, engineering and mathematics, from the University of Pennsylvania's English Language Programs.",
     "description_zh": "美國賓州大學英語課程：科學、科技、工程與數學領域的英語。",
     "url": _UPENN_ENGLISH, "languages": "en", "hours": "10", "segments": "202:10",
     "topics": "英語 English; 科技 Technology", "tags": "Coursera; UPenn"},
    {**_MOOC, "code": "DLAI-AI4E", "provider_key": "deeplearning-ai", "platform": "Coursera",
     "title_en": "AI For Everyone", "title_zh": "人人都能懂的人工智慧",
     "description_en": "Andrew Ng's non-technical course in four weeks: what AI is, building AI projects, building AI in your company, and AI and society.",
     "description_zh": "吳恩達的非技術性人工智慧課程，共四週：什麼是人工智慧、建立人工智慧專案、在組織中導入人工智慧、人工智慧與社會。",
     "url": "https://kachcap6635.wordpress.com/2020/02/28/ai-for-everyone/", "languages": "en",
     "subtitle_languages": "en; zh-Hant",
     "effort": "4 weeks: What is AI / Building AI Projects / Building AI in Your Company / AI and Society",
     "hours": "6", "segments": "70:6", "topics": "人工智慧 AI; 數位治理 Digital government",
     "tags": "Coursera; Andrew Ng; 吳恩達"},
    {**_MOOC, "code": "WB-F4D", "provider_key": "world-bank", "platform": "World Bank Open Learning Campus",
     "title_en": "Financing for Development", "title_zh": "發展融資",
     "description_en": "The World Bank's MOOC on how development is financed, in four weekly sessions.",
     "description_zh": "世界銀行磨課師：發展經費如何籌措，共四週四個單元。",
     "url": "https://www.devex.com/news/world-bank-turns-to-mooc-for-development-finance-learning-87107",
     "languages": "en", "effort": "4 weeks, 4 sessions", "hours": "8", "segments": "268:4; 14:4",
     "topics": "永續發展 Sustainable development; 財政 Public finance", "tags": "World Bank; 世界銀行"},
    {**_MOOC, "code": "WB-PPP", "provider_key": "world-bank", "platform": "World Bank Open Learning Campus",
     "title_en": "Public-Private Partnerships", "title_zh": "公私協力",
     "description_en": "The World Bank's MOOC on how governments plan, procure and manage public-private partnerships.",
     "description_zh": "世界銀行磨課師：政府如何規劃、招標與管理公私協力計畫。",
     "url": _WB_MOOCS, "languages": "en", "hours": "8", "segments": "127:4; 44:4",
     "topics": "公共治理 Public governance; 財政 Public finance", "tags": "World Bank; 世界銀行; PPP"},
    {**_MOOC, "code": "WB-CE", "provider_key": "world-bank", "platform": "World Bank Open Learning Campus",
     "title_en": "Citizen Engagement", "title_zh": "公民參與",
     "description_en": "The World Bank's MOOC on involving citizens in public decisions; its hours can count toward the 4 h of democratic-governance values.",
     "description_zh": "世界銀行磨課師：讓公民參與公共決策；時數可計入民主治理價值 4 小時。",
     "url": _WB_MOOCS, "languages": "en", "hours": "4", "segments": "505:4",
     "topics": "公民參與 Civic participation; 公共治理 Public governance", "tags": "World Bank; 世界銀行"},
    {**_MOOC, "code": "WB-NRSD", "provider_key": "world-bank", "platform": "World Bank Open Learning Campus",
     "title_en": "Natural Resources for Sustainable Development: Fundamentals of Oil, Gas and Mining Governance",
     "title_zh": "自然資源與永續發展：石油、天然氣與礦業治理基礎",
     "description_en": "A twelve-week MOOC by the World Bank with Columbia University's Center on Sustainable Investment on governing extractive industries.",
     "description_zh": "世界銀行與哥倫比亞大學永續投資中心合作的十二週磨課師：採掘產業的治理。",
     "url": "http://documents1.worldbank.org/curated/en/785921614152094938/text/MOOC2-Update-of-Massive-Open-Online-Course-on-Extractives.txt",
     "languages": "en", "effort": "12 weeks", "hours": "12", "segments": "268:12",
     "topics": "永續發展 Sustainable development; 能源 Energy", "tags": "World Bank; Columbia CCSI"},
    {**_MOOC, "code": "UNDP-SDG", "provider_key": "undp", "platform": "UNDP",
     "title_en": "UNDP MOOC on the Agenda 2030 Sustainable Development Goals", "title_zh": "聯合國 2030 永續發展目標磨課師",
     "description_en": "UNDP's bilingual open online course on the SDGs in 19 modules, with a certificate.",
     "description_zh": "聯合國開發計畫署的雙語永續發展目標線上課程，共 19 個單元，完成可得證書。",
     "url": "http://aims.fao.org/activity/blog/undp-launches-open-online-course-sdgs-awareness",
     "languages": "en", "effort": "19 modules", "hours": "6", "segments": "268:3; 339:3",
     "topics": "永續發展 Sustainable development; 氣候變遷 Climate change", "tags": "SDGs; 聯合國"},
    {**_TALK, "code": "TED-PAHLKA-2012", "provider_key": "ted", "platform": "TED",
     "title_en": "Jennifer Pahlka: Coding a better government (TED2012)", "title_zh": "珍妮佛．帕卡：用程式碼打造更好的政府（TED2012）",
     "description_en": "The founder of Code for America on how citizens and technologists can make government work better. A short talk that credits no hours on its own; bundle it with others for at least an hour.",
     "description_zh": "Code for America 創辦人談公民與科技人如何讓政府運作得更好。單一短講不計時數，需與其他內容合併達一小時以上。",
     "url": "https://english-video.net/v/en/1381", "languages": "en", "subtitle_languages": "en; zh-Hant",
     "effort": "~12-15 min", "segments": "124:0", "topics": "數位治理 Digital government; 創新 Innovation",
     "tags": "TED; Code for America"},
    {**_TALK, "code": "TED-NOVECK", "provider_key": "ted", "platform": "TED",
     "title_en": "Beth Noveck: an open-source approach to rethinking government", "title_zh": "貝絲．諾維克：以開源方式重新思考政府",
     "description_en": "The former US deputy chief technology officer calls for an open-source approach to rethinking government (the talk's exact title is not verified). Credits no hours on its own.",
     "description_zh": "前美國白宮副技術長呼籲以開源方式重新思考政府（演講確切標題尚未查證）。單一短講不計時數。",
     "url": "https://dict.youdao.com/example/auth/technology_administration_system", "languages": "en",
     "effort": "short talk", "segments": "505:0", "topics": "公民參與 Civic participation; 數位治理 Digital government",
     "tags": "TED; open government; 開放政府"},
    {"code": "NACS-GMTD", "provider_key": "nacs", "kind": "course", "format": "blended", "platform": "",
     "title_en": "Global Mobility Talent Development English Program", "title_zh": "全球移動力人才培育英語專班",
     "description_en": "The National Academy of Civil Service's pre-departure English programme for the Take-Off Program for Senior Civil Service: meeting English, public presentation, policy argument, policy marketing and international negotiation.",
     "description_zh": "國家文官學院為高階文官飛躍方案開設的行前英語專班：會議英語、公開簡報、政策論述、政策行銷與國際談判。",
     "url": "https://www.nacs.gov.tw/en/cp.aspx?n=3977", "languages": "en; zh-Hant",
     "effort": "20 h (113 plan)", "effort_hours": "20", "hours": "20", "segments": "202:10; 507:10",
     "digital_hours": "10", "physical_hours": "10", "has_test": "yes", "survey_required": "yes",
     "cross_year_repeat": "no", "class_start": "2026-01-01", "class_end": "2026-12-31",
     "licence_holder": "高階文官飛躍方案學員 Take-Off Program trainees", "licence_agreement": "NACS training plan",
     "licence_until": "2026-12-31", "topics": "英語 English; 國際談判 Negotiation; 領導 Leadership",
     "tags": "國家文官學院; 飛躍方案; 行前培訓 Pre-departure"},
]

DEMO_RECOMMENDATIONS = (
    ("WB-CE", "課程推薦委員會（示範）Course recommendation committee (demo)", "",
     "世界銀行的公民參與課程，可補足民主治理價值時數。A World Bank course that fills the democratic-governance quota."),
    ("DLAI-AI4E", "課程推薦委員會（示範）Course recommendation committee (demo)", "",
     "非技術背景也能理解人工智慧的入門課程。An AI primer for officials without a technical background."),
)


def demo_rows() -> list[dict[str, Any]]:
    """Return the demo courses as import rows, with their providers filled in."""
    return [{**PROVIDERS[row["provider_key"]], **row} for row in DEMO_COURSES]


def load_demo(app: Flask) -> list[str]:
    """Load demo data once and return lines to print for the person running the demo."""
    added = 0
    from lrs.certification.demo import DEMO_REGISTRY

    certified = {entry[0] for entry in DEMO_REGISTRY}
    with app.app_context(), get_db(app).session() as session:
        existing = set(session.scalars(select(CatalogCourse.code)))
        codes = service.category_codes(session)
        for row in demo_rows():
            if row["code"] in existing:
                continue
            # The certification demo writes its own registry entries for its courses (and loads its people
            # only when they are missing), so only the other demo courses enter the registry from here.
            course = service.create_course(session, service.validate(row, codes), DEMO_ACTOR, status=Status.PUBLISHED,
                                           note="demo catalog (domain/certification.md section 5)",
                                           sync=row["code"] not in certified)
            course.approved_at, course.approved_by = utcnow(), DEMO_ACTOR
            added += 1
        session.flush()
        for code, expert, title, reason in DEMO_RECOMMENDATIONS:
            course = service.get_course(session, code)
            if not service.recommendations(session, course):
                service.add_recommendation(session, course, expert, title, reason, DEMO_ACTOR)
        total = len(service.all_courses(session, (Status.PUBLISHED,)))
    return [f"Catalog: {total} published international courses and talks ({added} added) at /catalog"]
