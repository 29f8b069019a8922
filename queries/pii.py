"""Personal data in appeals: what identifies a person in a text, and what text a viewer gets.

`for_viewer` is the one place that decides what a role may see of an appeal's words; every read
that returns appeal text or notes passes its frame through it (tests/test_pii.py enumerates the
query functions and checks each for the press role).

Detection is by span (`pii_spans`): phones, e-mails (also written as «[at]», «собака»), street
addresses and house/flat numbers, and person names. Names are found with the morphological
dictionary of pymorphy3 (its Name/Surn/Patr tags): a capitalised word that can be a first name,
surname or patronymic, the words joined to it (initials, a hyphenated second part, a surname
beside a first name), and any word after «меня зовут» and the like whatever its case. Natasha's
NER was considered: it requires pymorphy2, which does not import on Python 3.11.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable

MASK = "▇▇▇"
PERSONAL_LINKS = ("author_ref", "source_url")  # dropped for roles that may not see personal data
PERSONAL_TEXTS = ("text", "note")               # masked for those roles

_SEP = r"[\s().\-‐–—]{0,3}"
PHONE_PATTERNS = [
    # +7 / 7 / 8 and ten digits in any grouping: +7 913 123-45-67, 8 (913) 123-45-67, 79131234567
    re.compile(rf"(?<![\w+])(?:\+\s?7|7|8){_SEP}\(?\d{{3}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}(?!\d)"),
    # a mobile number without the country code: 913 123 45 67, (913)1234567
    re.compile(r"(?<![\w+])\(?9\d{2}\)?[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}(?!\d)"),
    # city numbers of six or seven digits in groups: 22-33-44, 222-33-44, 222 33 44
    re.compile(r"(?<![\w.,])\d{2,3}[\s\-]\d{2}[\s\-]\d{2}(?!\d|[.,]\d|\s*(?:руб|р\.|тыс|млн|%|км|м\b|год))"),
    # six or seven plain digits after a word that announces a phone
    re.compile(r"(?i:(?<=тел\.)|(?<=тел)|(?<=телефон)|(?<=телефону)|(?<=номер)|(?<=звоните)|(?<=т\.))"
               r"[\s:.\-–—]*\+?\d{6,11}(?!\d)"),
]
_TLD = r"(?:ru|рф|com|net|org|su|info|biz|io|me|ua|kz|by|edu|gov|mail|yandex|gmail)"
EMAIL_PATTERNS = [
    re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE),
    # obfuscated: ivan[at]mail.ru, ivan (at) mail ru, ivan собака mail точка ru, ivan @ mail . ru
    re.compile(rf"(?i)[a-z0-9._+\-]+\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{{\s*at\s*\}}|\s+at\s+|\s*@\s*|\s+собака\s+)\s*"
               rf"[a-z0-9\-]+(?:\s*(?:\.|\[\s*dot\s*\]|\(\s*dot\s*\)|\s+dot\s+|\s+точка\s+|\s)\s*[a-z0-9\-]+)*?"
               rf"\s*(?:\.|\[\s*dot\s*\]|\(\s*dot\s*\)|\s+dot\s+|\s+точка\s+|\s)\s*{_TLD}\b"),
]
_STREET = (r"ул\.?|улица|улице|улицы|улицу|пр\.|пр-т|проспект|проспекте|пер\.|переулок|переулке|мкр\.?|"
           r"микрорайон|микрорайоне|бульвар|бульваре|б-р|шоссе|пл\.|площадь|площади|проезд|проезде|тракт|тракте|"
           r"набережная|набережной|тупик|тупике|квартал|квартале|СНТ|снт")
ADDRESS_PATTERNS = [
    # a street word, the street's name (one or two words) and an optional house number
    re.compile(rf"(?i:\b(?:{_STREET})(?=[\s.])\.?\s*)[А-ЯЁA-Z0-9][\wЁё.\-]*(?:\s+[А-ЯЁ][\wЁё\-]*)?"
               r"(?:,?\s*(?:д\.?|дом)?\s*\d+[а-яА-Я]?(?:/\d+)?)?"),
    # house, building and flat numbers: д. 5, дом 7, кв 12, корп. 2, подъезд 3
    re.compile(r"(?i:\b(?:д\.|д|дом|дома|доме|домом|кв\.|кв|квартира|квартире|квартиры|корп\.|корп|корпус|к\.|стр\.)"
               r"(?=[\s.\d№]))\.?\s*№?\s*\d+[а-яА-Я]?(?:/\d+)?"),
    # «на Ленина 5 кв 12», «по Мира 14»: a capitalised word straight after a preposition, then a number
    re.compile(r"(?<=\b[нН]а\s)[А-ЯЁ][а-яё\-]+\s+\d+[а-яА-Я]?(?:/\d+)?(?!\s*(?:руб|тыс|%|км|лет|год|дн|час|мин|раз|чел))"),
    re.compile(r"(?<=\b[пП]о\s)[А-ЯЁ][а-яё\-]+\s+\d+[а-яА-Я]?(?:/\d+)?(?!\s*(?:руб|тыс|%|км|лет|год|дн|час|мин|раз|чел))"),
]
# words after which the next one to three words are a name whatever their case
NAME_CUES = re.compile(r"(?i)\b(?:(?:меня\s+зовут|зовут\s+меня|моё\s+имя|мое\s+имя|моя\s+фамилия|пишет|"
                       r"с\s+уважением|заявитель|заявительница|подпись|фио)\b|я\s*[—–-])[\s:,.—–\-*_]*")
_WORD = re.compile(r"[А-ЯЁа-яёA-Za-z]+(?:-[А-ЯЁа-яёA-Za-z]+)*")
_INITIAL = re.compile(r"\b[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.)?")
_INITIAL_ANY = re.compile(r"(?i)\b[а-яё]\.\s?(?:[а-яё]\.)?")
_NAME_TAGS = ("Name", "Surn", "Patr")
# capitalised words the dictionary may call names that are, in appeals, places, bodies or topics
_NOT_NAMES = frozenset({
    "госуслуги", "госуслуг", "вконтакте", "одноклассники", "телеграм", "минздрав", "минтранс", "мэрия",
    "новосибирск", "новосибирска", "бердск", "бердска", "искитим", "обь", "куйбышев", "барабинск", "карасук",
    "татарск", "купино", "тогучин", "чулым", "коченево", "ордынское", "мошково", "колывань", "маслянино",
    "сузун", "черепаново", "болотное", "краснозерское", "здравствуйте", "добрый", "спасибо", "прошу", "просим",
    "помогите", "когда", "почему", "уважаемые", "уважаемый", "сегодня", "вчера", "россия", "рф", "цур", "жкх",
    "мфц", "гибдд", "пос", "скорая", "поликлиника", "больница", "школа", "детский", "администрация", "губернатор",
    "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь",
    "декабрь", "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
    "ноября", "декабря", "covid", "новый", "новая", "новое", "снег", "мороз",
})


@functools.lru_cache(maxsize=1)
def _morph():
    import pymorphy3
    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=200_000)
def _name_score(word: str) -> float:
    """How likely the dictionary thinks `word` is a first name, surname or patronymic (0..1)."""
    if word.lower() in _NOT_NAMES:
        return 0.0
    parses = _morph().parse(word)
    return sum(p.score for p in parses if any(tag in p.tag for tag in _NAME_TAGS))


def _is_name_part(word: str, strong: bool) -> bool:
    """A capitalised word that can be a name; `strong`: also a likely common word (a sentence's first)."""
    parts = word.split("-")
    best = max(_name_score(p.capitalize()) for p in parts)
    return best >= (0.5 if strong else 0.05)


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t*_\"«'(")
    return not before or before[-1] in ".!?\n:;"


def _name_spans(text: str) -> list[tuple[int, int]]:
    def _adjacent(a: tuple[int, int], b: tuple[int, int]) -> bool:
        """Whether two spans are separated by at most one space."""
        (s1, e1), (s2, e2) = sorted((a, b))
        return e1 <= s2 and re.fullmatch(r"\s?", text[e1:s2]) is not None

    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    hits: list[tuple[int, int]] = []
    marked = [False] * len(words)
    for i, (s, e, w) in enumerate(words):
        if not w[0].isupper() or len(w) < 2 or w.isupper():
            continue
        if _is_name_part(w, strong=_sentence_start(text, s)):
            marked[i] = True
    # a capitalised word right beside a name (a surname, the second part of a full name) is one too
    for i in range(len(words)):
        if marked[i]:
            continue
        s, e, w = words[i]
        if not w[0].isupper() or w.lower() in _NOT_NAMES or w.isupper():
            continue
        near = False
        for j in (i - 1, i + 1):
            if 0 <= j < len(words) and marked[j]:
                a, b = sorted((i, j))
                near = near or re.fullmatch(r"[\s*_]+", text[words[a][1]:words[b][0]]) is not None
        if near and (_name_score(w) > 0 or re.search(r"(?:ск|цк)(?:ий|ая|ой|ого|ому|им|их)$", w)):
            marked[i] = True
    # a capitalised word beside initials is a surname: «Зайцев С.П.», «И. И. Дубовицкий»
    for m in _INITIAL.finditer(text):
        for i, (s, e, w) in enumerate(words):
            if not (w[0].isupper() and w.lower() not in _NOT_NAMES and len(w) > 1 and _adjacent((s, e), m.span())):
                continue
            # after the initials any capitalised word; before them a word that can be a surname
            if s > m.start() or _name_score(w) > 0 or not _morph().word_is_known(w.lower()):
                marked[i] = True
    # words after a cue, whatever their case (up to three, while they can be names)
    for cue in NAME_CUES.finditer(text):
        taken, previous = 0, None
        for i, (s, e, w) in enumerate(words):
            if s < cue.end():
                continue
            if taken >= 3:
                break
            if previous is None:
                gap_ok = re.fullmatch(r"[\s:,.—–\-*_\"«»]*", text[cue.end():s])
            elif len(words[previous][2]) == 1:  # after an initial: its dot and a space
                gap_ok = re.fullmatch(r"\.?\s*", text[words[previous][1]:s])
            else:  # the next part of the same name: spaces (or markdown) only
                gap_ok = re.fullmatch(r"[\s*_]+", text[words[previous][1]:s])
            if not gap_ok:
                break
            if len(w) == 1 and text[e:e + 1] == ".":  # an initial
                marked[i], previous = True, i
                continue
            if _name_score(w.capitalize()) >= 0.2 or (w[0].isupper() and w.lower() not in _NOT_NAMES):
                marked[i], previous = True, i
                taken += 1
            else:
                break
    hits = [(s, e) for (s, e, _), m in zip(words, marked) if m]
    # initials beside a name: «И. И. Иванов», «Иванов И.И.», after a cue also in lower case
    for m in _INITIAL_ANY.finditer(text):
        if any(_adjacent(hit, m.span()) for hit in hits):
            hits.append((m.start(), m.end()))
    return hits


def _trimmed(text: str, s: int, e: int, kind: str) -> tuple[int, int, str]:
    """The span without the spaces and punctuation a pattern's context took in at its ends."""
    while s < e and text[s] in " \t\n:.,-–—":
        s += 1
    while e > s and text[e - 1] in " \t\n:,-–—":
        e -= 1
    return s, e, kind


def pii_spans(text: str | None) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) of personal data in `text`; kind: phone, email, address, name."""
    if not text:
        return []
    found: list[tuple[int, int, str]] = []
    for kind, patterns in (("email", EMAIL_PATTERNS), ("phone", PHONE_PATTERNS), ("address", ADDRESS_PATTERNS)):
        for pattern in patterns:
            found += [(m.start(), m.end(), kind) for m in pattern.finditer(text) if m.end() > m.start()]
    found += [(s, e, "name") for s, e in _name_spans(text)]
    found = [_trimmed(text, s, e, kind) for s, e, kind in found]
    found.sort(key=lambda x: (x[0], -x[1]))
    merged: list[tuple[int, int, str]] = []
    for s, e, kind in found:
        if merged and s < merged[-1][1]:
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), pk)
        else:
            merged.append((s, e, kind))
    return merged


def mask_pii(text: str | None) -> str | None:
    """The text with every phone, e-mail, address and name replaced by ▇▇▇."""
    if text is None:
        return None
    out, last = [], 0
    for s, e, _ in pii_spans(text):
        out.append(text[last:s])
        out.append(MASK)
        last = e
    out.append(text[last:])
    return "".join(out)


def _mask_all(values: Iterable) -> list:
    return [mask_pii(v) if isinstance(v, str) else v for v in values]


def for_viewer(data, viewer):
    """What `viewer` may see of a frame or a row read from appeals or their events: unchanged for
    roles that see personal data; else author keys and source links removed, texts and notes masked."""
    if not viewer.masks_personal_data:
        return data
    import pandas as pd
    data = data.copy()
    if isinstance(data, pd.DataFrame):
        for col in PERSONAL_LINKS:
            if col in data.columns:
                data[col] = None
        for col in PERSONAL_TEXTS:
            if col in data.columns:
                data[col] = _mask_all(data[col])
    else:  # a row
        for col in PERSONAL_LINKS:
            if col in data.index:
                data[col] = None
        for col in PERSONAL_TEXTS:
            if col in data.index and isinstance(data[col], str):
                data[col] = mask_pii(data[col])
    return data
