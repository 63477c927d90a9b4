"""Read question banks (quiz questions per course) from JSON, checking every field (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lrs.errors import BadRequest

MAX_QUESTIONS = 100


@dataclass(frozen=True)
class QuestionData:
    """One validated multiple-choice question."""

    key: str
    prompt_en: str
    prompt_zh: str
    choices: list[dict[str, str]]
    answer: str


def _text(value: Any, path: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"{path} must be text of 1 to {limit} characters.")
    return value.strip()


def parse_bank(data: Any) -> dict[str, list[QuestionData]]:
    """Validate `{"COURSE": [{"key", "prompt_en", "prompt_zh", "choices": [{"key", "en", "zh"}], "answer"}]}`."""
    if not isinstance(data, dict) or not data:
        raise BadRequest('A question bank is a JSON object of course codes, each with a list of questions.')
    banks: dict[str, list[QuestionData]] = {}
    for code, questions in data.items():
        course = _text(code, "a course code", 40).upper()
        if not isinstance(questions, list) or not 0 < len(questions) <= MAX_QUESTIONS:
            raise BadRequest(f"{course} needs a list of 1 to {MAX_QUESTIONS} questions.")
        seen: set[str] = set()
        parsed: list[QuestionData] = []
        for index, raw in enumerate(questions):
            path = f"{course}[{index}]"
            if not isinstance(raw, dict):
                raise BadRequest(f"{path} must be an object.")
            key = _text(raw.get("key"), f"{path}.key", 40)
            if key in seen:
                raise BadRequest(f"{path}.key {key!r} is used twice in {course}.")
            seen.add(key)
            choices_raw = raw.get("choices")
            if not isinstance(choices_raw, list) or not 2 <= len(choices_raw) <= 10:
                raise BadRequest(f"{path}.choices must list 2 to 10 choices.")
            choices = []
            for number, choice in enumerate(choices_raw):
                if not isinstance(choice, dict):
                    raise BadRequest(f"{path}.choices[{number}] must be an object with key, en and zh.")
                choices.append({"key": _text(choice.get("key"), f"{path}.choices[{number}].key", 40),
                                "en": _text(choice.get("en"), f"{path}.choices[{number}].en", 500),
                                "zh": _text(choice.get("zh"), f"{path}.choices[{number}].zh", 500)})
            answer = _text(raw.get("answer"), f"{path}.answer", 40)
            if answer not in {choice["key"] for choice in choices}:
                raise BadRequest(f"{path}.answer {answer!r} is not one of its choices' keys.")
            parsed.append(QuestionData(key, _text(raw.get("prompt_en"), f"{path}.prompt_en", 2000),
                                       _text(raw.get("prompt_zh"), f"{path}.prompt_zh", 2000), choices, answer))
        banks[course] = parsed
    return banks
