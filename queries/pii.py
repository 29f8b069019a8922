"""Masking of what identifies a person in an appeal's text: phones, e-mails, names, addresses."""
from __future__ import annotations

import re

MASK = "▇▇▇"
PATTERNS = [
    # e-mail addresses
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE),
    # phone numbers: +7 / 8 and 10 digits in any grouping, or 6-7 digit local numbers with dashes
    re.compile(r"(?:\+7|\b8)[\s(.-]*\d{3}[\s).-]*\d{3}[\s.-]*\d{2}[\s.-]*\d{2}\b"),
    re.compile(r"\b\d{2,3}-\d{2}-\d{2}\b"),
    # a name after «меня зовут» / «я —» / «с уважением,»: up to three capitalised words
    re.compile(r"(?i:(?<=меня зовут)|(?<=с уважением,)|(?<=с уважением))\s*"
               r"(?:[А-ЯЁA-Z][а-яёa-z]+|[А-ЯЁA-Z]\.)(?:\s*(?:[А-ЯЁA-Z][а-яёa-z]+|[А-ЯЁA-Z]\.)){0,2}"),
    # addresses: a street word and what follows, a house number
    re.compile(r"(?i:\b(?:ул\.|улица|улице|улицы|пр\.|проспект|пер\.|переулок|мкр\.?|микрорайон|бульвар|б-р|шоссе|пл\.|площадь)\s*)"
               r"[А-ЯЁA-Z0-9][\wЁё.-]*(?:\s+[А-ЯЁ][\wЁё-]*)?"),
    re.compile(r"(?i:\b(?:д\.|дом|дома|доме|кв\.|квартира|квартире|корп\.|к\.)\s*)\d+[а-яА-Я]?(?:/\d+)?"),
]


def mask_pii(text: str | None) -> str | None:
    """The text with every phone, e-mail, name after «меня зовут» and address replaced by ▇▇▇."""
    if text is None:
        return None
    out = text
    for pattern in PATTERNS:
        out = pattern.sub(lambda m: (" " if m.group(0).startswith(" ") else "") + MASK, out)
    return out
