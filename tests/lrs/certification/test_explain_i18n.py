"""Test that every explanation the rules write reads in Traditional Chinese on Chinese pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lrs.certification import rules
from lrs.certification.explain_i18n import to_chinese, translator
from lrs.certification.rules import Attempt, CourseTerms


def _all_lines() -> list[str]:
    terms = CourseTerms(hours=Decimal(2), pass_mark=Decimal(60), class_start=dt.date(2026, 1, 1), class_end=dt.date(2026, 6, 30))
    out: list[str] = []
    for attempt in (Attempt(Decimal(7199), Decimal(40), survey_submitted=True), Attempt(Decimal(7200), Decimal(80), survey_submitted=True),
                    Attempt(Decimal(7200), None), Attempt(Decimal(3600), None, survey_submitted=False)):
        out += rules.decide_credit(terms, attempt).explain()
    out += rules.decide_credit(CourseTerms(hours=Decimal(0), has_test=False, survey_required=False), Attempt(Decimal(1))).explain()
    tpe = rules.TAIPEI
    moments = [(dt.datetime(2026, 2, 1, tzinfo=tpe), "a"), (dt.datetime(2026, 3, 1, tzinfo=tpe), "b"),
               (dt.datetime(2026, 8, 1, tzinfo=tpe), "c"), (dt.datetime(2025, 8, 1, tzinfo=tpe), "d")]
    out += [c.explanation for c in rules.choose_credits(terms, moments)]
    repeat = CourseTerms(hours=Decimal(2), cross_year_repeat=True)
    out += [c.explanation for c in rules.choose_credits(repeat, moments[:2])]
    result = rules.check_compliance(2026, rules.lines({"337": 3}))
    warning = rules.deadline_warning(result, rules.EY_DEFAULT, dt.date(2026, 10, 1))
    assert warning is not None
    out.append(warning.explanation)
    return out


def test_explain_to_chinese_knows_every_rule_sentence() -> None:
    """Every sentence R4-R8 and R15 produce has a Chinese form (no English left)."""
    for line in _all_lines():
        translated = to_chinese(line)
        assert translated != line, line
        assert not any(word in translated for word in ("Reading", "score", "survey", "credited", "cut-off")), translated


def test_explain_to_chinese_examples() -> None:
    """The one-second-short and cut-off lines read naturally, and unknown lines pass through."""
    assert to_chinese("Attempt abc: Reading time 7199 s is 1 s short of the 7200 s required (2 h x 3600).") == \
        "學習紀錄 abc：閱讀時數 7199 秒，距 7200 秒（2 小時 × 3600）尚差 1 秒。"
    assert to_chinese("Revoked by certifier on 2026-04-01: duplicate") == "certifier 於 2026-04-01 撤銷：duplicate"
    assert to_chinese("Something new.") == "Something new."
    assert translator("en")("Credited to 2026 (completed 2026-03-05 Taipei time).").startswith("Credited")
