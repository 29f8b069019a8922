"""Rejected rows: why each was refused (in Russian and English), and the rejects file beside the input."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from queries.formulas import guard


REASONS = {
    "encoding": ("неверная кодировка строки", "wrong text encoding"),
    "fields": ("неверное число полей (строка обрезана?)", "wrong number of fields (truncated line?)"),
    "quoting": ("строка обрезана или нарушены кавычки", "truncated line or broken quoting"),
    "missing": ("не заполнено обязательное поле", "required field is empty"),
    "duplicate": ("номер повторяется в файле (впервые в строке {first})", "duplicate id in the file (first on line {first})"),
    "unknown": ("неизвестное значение «{value}»", "unknown value '{value}'"),
    "category": ("указана категория, а не тема: «{value}»", "a category, not a topic: '{value}'"),
    "date": ("не удалось разобрать дату «{value}»", "cannot parse date '{value}'"),
    "date_format": ("дата «{value}» не читается в формате {format}, объявленном в описании файла",
                    "cannot read date '{value}' in the mapping's date_format {format}"),
    "calendar": ("дата «{value}» вне производственного календаря ({first}–{last})",
                 "date '{value}' outside the working calendar ({first} to {last})"),
    "measured": ("ожидалось 1 или 0 (измеряется ли ответ): «{value}»", "1 or 0 expected (response measured): '{value}'"),
    "control": ("управляющий символ в поле: «{value}»", "a control character in the field: '{value}'"),
    "order": ("дата раньше даты поступления", "date before the received date"),
    "closed_without_date": ("статус закрыт, но нет даты закрытия", "closed status without a closing date"),
    "open_with_date": ("статус открыт, но есть дата закрытия", "open status with a closing date"),
    "number": ("ожидалось целое число «{value}»", "an integer was expected: '{value}'"),
    "rating": ("оценка должна быть от 1 до 5: «{value}»", "rating must be 1 to 5: '{value}'"),
    "escalation": ("эскалация без органа или органа без даты", "escalation without a body, or a body without a date"),
}


@dataclass
class Reject:
    line: int
    column: str
    reason: str
    raw: list = field(default_factory=list)
    value: str = ""
    extra: dict = field(default_factory=dict)

    def texts(self) -> tuple[str, str]:
        ru, en = REASONS[self.reason]
        kw = {"value": self.value, **self.extra}
        return ru.format(**kw), en.format(**kw)


def write_rejects(path: Path, header: list[str], rejects: list[Reject]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["line", "column", "reason_ru", "reason_en", *header])
        for r in sorted(rejects, key=lambda r: r.line):
            ru, en = r.texts()
            raw = [f.encode("utf-8", "surrogateescape").decode("cp1251", "replace") if undecodable([f]) else f
                   for f in r.raw]
            w.writerow([r.line, r.column, ru, en, *(guard(v) for v in raw)])


def undecodable(fields: list[str]) -> bool:
    """True when a field holds bytes the file's encoding could not decode (surrogate escapes)."""
    try:
        "\x1f".join(fields).encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
