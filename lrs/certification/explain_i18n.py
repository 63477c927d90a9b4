"""Show the rules' explanations and the registry's refusals in Traditional Chinese on the staff pages.

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
# What registry validation (registry.validate_course, rules.split_segments, rules.check_foreign_hours) says.
_SENTENCES += [
    (_p("The course code is required: up to 64 characters without commas, quotes or line breaks."),
     "必須填寫課程代碼：至多 64 個字元，不可含逗號、引號或換行。"),
    (_p("The title (課程名稱) is required, up to 300 characters."), "必須填寫課程名稱，至多 300 個字元。"),
    (_p("Keep the English title within 300 characters, the term (期別) 1 to 20 characters and the activity id within 2048."),
     "英文課程名稱至多 300 個字元，期別 1 至 20 個字元，活動識別碼至多 2048 個字元。"),
    (_p("Category code {code} is not in the code list; add it first if it is new."), "課程類別代碼 {code} 不在代碼表中；若為新代碼，請先新增。"),
    (_p("Segment category code {code} is not in the code list."), "分段的課程類別代碼 {code} 不在代碼表中。"),
    (_p("The class period starts ({start}) after it ends ({end})."), "上課期間的開始日（{start}）晚於結束日（{end}）。"),
    (_p("The pass mark is a score from 0 to 100."), "及格分數須為 0 至 100 分。"),
    (_p("A course without a test cannot declare a pass mark."), "無測驗的課程不可設定及格分數。"),
    (_p("The segments claim {sd} h digital and {sp} h physical, more than the course's {d} h digital and {p} h physical (R10)."),
     "各分段合計數位 {sd} 小時、實體 {sp} 小時，超過課程的數位 {d} 小時、實體 {p} 小時（R10）。"),
    (_p("Segment {code} has no hours; give it hours or remove it (R10)."), "分段 {code} 沒有時數；請填寫時數或移除該分段（R10）。"),
    (_p("Certified hours for a foreign course must be a whole number, got {h} (R13)."), "國外課程的認證時數須為整數，目前為 {h}（R13）。"),
    (_p("Certified hours {h} exceed the provider's stated effort of {e} h (R13)."), "認證時數 {h} 超過開課單位標示的學習時數 {e} 小時（R13）。"),
    (_p("Hours of 1 or more need the reading-time requirement (R4) to be enforceable for this course (R13)."),
     "認證 1 小時以上，本課程須能執行閱讀時數要求（R4）（R13）。"),
    (_p("Certified hours {h} exceed the cap of {cap} h for a single MOOC (R13)."), "認證時數 {h} 超過單一 MOOC 的上限 {cap} 小時（R13）。"),
    (_p("City code {code} is not a 上課縣市 code (§2.4); 10 is 臺北市, 01 overseas."), "上課縣市代碼 {code} 不正確（§2.4）；10 為臺北市，01 為國外。"),
    (_p("Say why the registry entry changes (the reason is kept in its history)."), "請說明修改原因（原因會記錄於異動歷程）。"),
    (_p("Activity {activity} is already registered as course {course}; one activity cannot carry two sets of terms."),
     "活動 {activity} 已登錄為課程 {course}；同一活動不可有兩組認證條件。"),
]
# Messages that name a field in words ("segment 14 digital hours"): the field is translated too.
_FIELD_SENTENCES = [
    (re.compile(r"^(?P<what>.+?) must be a date such as 2026-01-01, got (?P<value>.+)\.$"), "{what}須為日期，例如 2026-01-01，目前為 {value}。"),
    (re.compile(r"^(?P<what>.+?) must be a number, got (?P<value>.+)\.$"), "{what}須為數字，目前為 {value}。"),
    (re.compile(r"^(?P<what>.+?) must be a number such as 2 or 1\.5, got (?P<value>.+)\.$"), "{what}須為數字，例如 2 或 1.5，目前為 {value}。"),
    (re.compile(r"^(?P<what>.+?) must be a finite number, got (?P<value>.+)\.$"), "{what}須為有限的數字，目前為 {value}。"),
    (re.compile(r"^(?P<what>.+?) cannot be negative, got (?P<value>.+)\.$"), "{what}不可為負數，目前為 {value}。"),
    (re.compile(r"^(?P<what>.+?) may have at most one decimal place \(R14\), got (?P<value>.+); declared values are never rounded\.$"),
     "{what}至多一位小數（R14），目前為 {value}；登錄的數值不會自動進位。"),
]
_FIELDS = {
    "digital hours": "數位時數", "physical hours": "實體時數", "pass mark": "及格分數", "provider effort": "開課單位標示的學習時數",
    "class_start": "上課期間開始日", "class_end": "上課期間結束日", "hours": "時數",
}
_SEGMENT_FIELD = re.compile(r"^segment (?P<code>\S+) (?P<kind>digital|physical) hours$")


def _field(what: str) -> str:
    segment = _SEGMENT_FIELD.match(what)
    if segment:
        return f"分段 {segment['code']} 的{_FIELDS[segment['kind'] + ' hours']}"
    return _FIELDS.get(what, what)


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
    for pattern, template in _FIELD_SENTENCES:
        match = pattern.match(line)
        if match:
            return template.format(what=_field(match["what"]), value=match["value"])
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
