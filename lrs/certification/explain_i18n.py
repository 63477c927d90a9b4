"""Show the rules' explanations in Traditional Chinese on the staff pages.

The ledger stores each explanation in English (stable text for JSON, exports and the audit trail);
pages in Chinese pass every line through `to_chinese`, which knows each sentence the rules and the
ledger write. A line it does not know is shown as stored, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_N = r"(?P<{}>[^ ;,()]+)"


def _p(template: str) -> re.Pattern[str]:
    """Compile an English sentence with {name} placeholders into a full-line pattern."""
    escaped = re.escape(template)
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", lambda m: _N.format(m.group(1)), escaped) + "$")


_SENTENCES: list[tuple[re.Pattern[str], str]] = [
    (_p("Reading time {read} s meets the {need} s required ({h} h x 3600)."), "閱讀時數 {read} 秒，已達 {need} 秒（{h} 小時 × 3600）。"),
    (_p("Reading time {read} s is {short} s short of the {need} s required ({h} h x 3600)."),
     "閱讀時數 {read} 秒，距 {need} 秒（{h} 小時 × 3600）尚差 {short} 秒。"),
    (_p("The course has no test."), "本課程無測驗。"),
    (_p("No test score is recorded; the pass mark is {mark}."), "查無測驗成績；及格分數為 {mark} 分。"),
    (_p("Best score {score} reaches the pass mark {mark}."), "最高成績 {score} 分，已達及格分數 {mark} 分。"),
    (_p("Best score {score} is below the pass mark {mark}."), "最高成績 {score} 分，未達及格分數 {mark} 分。"),
    (_p("The course requires no survey."), "本課程不須填寫問卷。"),
    (_p("The survey has not been submitted."), "尚未填寫問卷。"),
    (_p("The survey was submitted, but it only counts once the test is passed."), "已填寫問卷，但須測驗通過後才計入。"),
    (_p("The survey has been submitted."), "已填寫問卷。"),
    (_p("The course carries 0 certified hours: it is tracked but credits nothing (R6)."), "本課程認證時數為 0 小時：僅記錄學習，不核給時數（R6）。"),
    (_p("Completed on {day}, before the class period starts ({start})."), "於 {day} 完成，早於上課期間開始日（{start}）。"),
    (_p("Completed on {day}, after the class period ended ({end})."), "於 {day} 完成，晚於上課期間結束日（{end}）。"),
    (_p("Completed on {day}, inside the class period."), "於 {day} 完成，在上課期間內。"),
    (_p("Already credited in {year}; this course does not allow credit again (R7)."), "已於 {year} 年取得認證；本課程跨年度不可重複取得（R7）。"),
    (_p("Already credited in {year}; at most one credit a year (R7)."), "已於 {year} 年取得認證；每年至多認證一次（R7）。"),
    (_p("Already credited manually in {year}; this course does not allow credit again (R7)."),
     "已於 {year} 年以人工方式認證；本課程跨年度不可重複取得（R7）。"),
    (_p("Credited to {year} (completed {day} Taipei time)."), "認證於 {year} 年（臺北時間 {day} 完成）。"),
    (_p("Revoked: statement {sid} was voided."), "已撤銷：學習紀錄 {sid} 已作廢。"),
    (_p("Revoked: the evidence no longer meets the rules (the registry entry or the statements changed)."),
     "已撤銷：佐證已不符規定（認證課程登錄或學習紀錄已變更）。"),
    (_p("No longer supported by the evidence or the registry."), "已無佐證或登錄資料支持。"),
    (_p("This course's hours are all physical (實體): staff certify attendance with a manual credit."),
     "本課程全為實體時數：出席情形由承辦人以人工認證。"),
]
_PREFIXED = [
    (re.compile(r"^Attempt (?P<reg>\S+|\(no registration\)): (?P<rest>.*)$"), "學習紀錄 {reg}：{rest}"),
    (re.compile(r"^Manual credit by (?P<by>\S+) on (?P<day>\S+): (?P<rest>.*)$"), "{by} 於 {day} 人工認證：{rest}"),
    (re.compile(r"^Also granted manually by (?P<by>\S+): (?P<rest>.*)$"), "{by} 亦以人工認證：{rest}"),
    (re.compile(r"^Revoked by (?P<by>\S+) on (?P<day>\S+): (?P<rest>.*)$"), "{by} 於 {day} 撤銷：{rest}"),
]
_WARNING = re.compile(
    r"^(?P<short>.*)\. The counting cut-off is (?P<cutoff>\S+); allowing (?P<n>\d+) working days for upload, "
    r"complete courses by (?P<by>\S+) \((?P<left>-?\d+) days left\)\.$"
)
_LATE = re.compile(
    r"^(?P<short>.*)\. The counting cut-off is (?P<cutoff>\S+); the last day that leaves (?P<n>\d+) working days "
    r"for upload \((?P<by>\S+)\) has passed: complete and upload at once\.$"
)
_SHORT = re.compile(r"^(?P<label>.*) short by (?P<hours>\S+) h$")
_LABEL = re.compile(r"^(?P<zh>[^(]+?) \(.*\)$")


def _shortfall(part: str) -> str:
    match = _SHORT.match(part.strip())
    if not match:
        return part
    label = match["label"]
    zh = _LABEL.match(label)
    return f"{zh['zh'] if zh else label}尚缺 {match['hours']} 小時"


def to_chinese(line: str) -> str:
    """Translate one explanation line into Traditional Chinese, or return it unchanged when unknown."""
    for pattern, template in _PREFIXED:
        match = pattern.match(line)
        if match:
            parts = match.groupdict()
            parts["rest"] = to_chinese(parts["rest"]) if "rest" in parts and pattern.pattern.startswith("^Attempt") else parts["rest"]
            return template.format(**parts)
    for pattern, template in _SENTENCES:
        match = pattern.match(line)
        if match:
            return template.format(**match.groupdict())
    warning = _WARNING.match(line)
    if warning:
        shorts = "；".join(_shortfall(part) for part in warning["short"].split("; "))
        return (f"{shorts}。統計截止日為 {warning['cutoff']}；預留上傳所需 {warning['n']} 個工作天，"
                f"請於 {warning['by']} 前完成課程（尚餘 {warning['left']} 天）。")
    late = _LATE.match(line)
    if late:
        shorts = "；".join(_shortfall(part) for part in late["short"].split("; "))
        return (f"{shorts}。統計截止日為 {late['cutoff']}；預留上傳 {late['n']} 個工作天的最後完成日（{late['by']}）已過，"
                "請立即完成課程並上傳。")
    return line


def translator(locale: str) -> Callable[[str], str]:
    """Return the line translator for a page locale (identity for English)."""
    return to_chinese if locale.startswith("zh") else (lambda line: line)
