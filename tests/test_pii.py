"""Personal data: what the masking finds (a labelled set, generated forms) and that every query
function returning appeal text gives the press role masked text only."""
import datetime as dt
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, strategies as st
from sqlalchemy import text

import queries
from queries.filters import Filters
from queries.pii import MASK, mask_pii, pii_spans
from queries.viewer import AccessDenied, Viewer

from .conftest import SMALL_AS_OF

LABELLED = Path(__file__).resolve().parent / "data" / "pii_labelled.jsonl"
# what the demo texts carry (seed/texts.py): a name after «Меня зовут» and a mobile number
SEEDED_PII = re.compile(r"8-913-\d{3}-\d{2}-\d{2}|Меня зовут [А-ЯЁ]")


def measure(rows: list[dict]) -> tuple[dict[str, float], float]:
    """Entity recall per kind (every letter and digit of the entity masked) and span precision
    (a masked span overlapping a labelled entity)."""
    found: dict[str, int] = {}
    total: dict[str, int] = {}
    tp = fp = 0
    for row in rows:
        txt, labels = row["text"], row["spans"]
        predicted = pii_spans(txt)
        covered = {i for s, e, _ in predicted for i in range(s, e)}
        for s, e, kind in labels:
            total[kind] = total.get(kind, 0) + 1
            if all(i in covered for i in range(s, e) if txt[i].isalnum()):
                found[kind] = found.get(kind, 0) + 1
        for s, e, _ in predicted:
            if any(s < le and ls < e for ls, le, _ in labels):
                tp += 1
            else:
                fp += 1
    return {k: found.get(k, 0) / total[k] for k in total}, tp / max(tp + fp, 1)


def test_labelled_set_recall_and_precision():
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 300
    assert sum(1 for r in rows if not r["spans"]) >= 50  # texts with look-alikes and no personal data
    recall, precision = measure(rows)
    print(f"\nPII masking on {len(rows)} labelled texts: recall "
          + ", ".join(f"{k} {v:.3f}" for k, v in sorted(recall.items())) + f"; precision {precision:.3f}")
    assert recall["phone"] >= 0.98 and recall["email"] >= 0.98
    assert recall["name"] >= 0.95 and recall["address"] >= 0.9
    assert precision >= 0.95


@pytest.mark.parametrize("raw, secret", [
    ("меня зовут иван, яма на дороге", "иван"),
    ("Меня зовут: Иван", "Иван"),
    ("Меня зовут — Иван", "Иван"),
    ("Пишу вам. **Иван** сказал, что света не будет", "Иван"),
    ("Анна-Мария Иванова жалуется на шум", "Мария"),
    ("Анна-Мария Иванова жалуется на шум", "Иванова"),
    ("звоните 79131234567", "9131234567"),
    ("звоните 7 913 123 45 67", "913 123"),
    ("звоните 8 (913) 123-45-67", "123-45"),
    ("городской 222-33-44 и 22-33-44", "33-44"),
    ("пишите ivan[at]mail.ru", "ivan"),
    ("пишите ivan (at) mail ru", "ivan"),
    ("живу на Ленина 5 кв 12", "Ленина"),
    ("живу на Ленина 5 кв 12", "12"),
    ("С уважением, Пётр Сидоров", "Сидоров"),
    ("Спасибо, до свидания. Пётр Сидоров", "Пётр"),
])
def test_common_forms_are_masked(raw, secret):
    assert secret not in mask_pii(raw)


def test_what_is_not_personal_stays():
    raw = "Дорога на Колывань разбита. Оплатили 200 000 рублей 12.05.2024, обращение №1234567, Ленинский район."
    assert mask_pii(raw) == raw


FIRST = st.sampled_from(["Иван", "Ирина", "Пётр", "Анна", "Сергей", "Ольга", "Дмитрий", "Елена", "Тимур",
                         "Ксения", "Фёдор", "Алиса", "Анна-Мария", "Григорий", "Юлия"])
LAST = st.sampled_from(["Иванов", "Петрова", "Сидоров", "Кузнецова", "Волков", "Лебедева", "Мельников",
                        "Хабибуллин", "Ткаченко", "Ермакова"])


@st.composite
def phones(draw):
    d = draw(st.text("0123456789", min_size=7, max_size=7))
    code = draw(st.sampled_from(["913", "923", "953", "983", "999"]))
    sep = draw(st.sampled_from(["-", " ", ""]))
    head = draw(st.sampled_from(["+7 ", "8 ", "7", "8", "+7", "+7-", "8-"]))
    bracket = draw(st.booleans())
    c = f"({code})" if bracket else code
    return f"{head}{c}{sep if not bracket else ' '}{d[:3]}{sep}{d[3:5]}{sep}{d[5:]}"


@st.composite
def emails(draw):
    login = draw(st.from_regex(r"[a-z][a-z0-9._]{1,10}[a-z0-9]", fullmatch=True))
    host = draw(st.sampled_from(["mail", "yandex", "bk", "gmail", "nsk"]))
    tld = draw(st.sampled_from(["ru", "com"]))
    at = draw(st.sampled_from(["@", "[at]", " (at) ", " @ ", " собака "]))
    dot = draw(st.sampled_from([".", " . ", "[dot]", " точка "])) if at != " (at) " else draw(st.sampled_from([".", " "]))
    return f"{login}{at}{host}{dot}{tld}"


@given(first=FIRST, last=LAST, phone=phones(), mail=emails(),
       frame=st.sampled_from(["Меня зовут {n}. Телефон {p}, почта {e}.", "{n}, тел. {p}; {e}",
                              "Прошу перезвонить по номеру {p} или написать {e}. С уважением, {n}",
                              "меня зовут {nl}, мой номер {p}, почта {e}"]))
def test_generated_names_phones_emails_are_masked(first, last, phone, mail, frame):
    name = f"{first} {last}"
    raw = frame.format(n=name, nl=name.lower(), p=phone, e=mail)
    masked = mask_pii(raw)
    digits = re.sub(r"\D", "", phone)
    assert digits[-7:] not in re.sub(r"\D", "", masked), masked
    assert mail.split("@")[0].split("[")[0].split(" ")[0] not in masked, masked
    for part in re.split(r"[\s-]", name):
        assert part.lower() not in masked.lower(), masked


# ---- every query function that can return appeal text, for the press role --------------------

def _query_functions():
    """Public functions of queries.* that read the database for a viewer (conn and viewer params)."""
    out = []
    for info in pkgutil.walk_packages(queries.__path__, "queries."):
        if ".migrations" in info.name:
            continue
        mod = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            params = inspect.signature(fn).parameters
            if fn.__module__ == mod.__name__ and not name.startswith("_") and "conn" in params and "viewer" in params:
                out.append(fn)
    return out


def _strings(value) -> list[tuple[str, str]]:
    """(column, string) of every text cell of a result."""
    if isinstance(value, tuple):
        return [x for v in value for x in _strings(v)]
    if isinstance(value, pd.DataFrame):
        return [(c, v) for c in value.columns for v in value[c] if isinstance(v, str)]
    if isinstance(value, pd.Series):
        return [(str(k), v) for k, v in value.items() if isinstance(v, str)]
    return []


def _links(value) -> list:
    if isinstance(value, tuple):
        return [x for v in value for x in _links(v)]
    if isinstance(value, pd.DataFrame):
        return [v for c in ("author_ref", "source_url") if c in value.columns for v in value[c] if v is not None]
    if isinstance(value, pd.Series):
        return [value[c] for c in ("author_ref", "source_url") if c in value.index and value[c] is not None]
    return []


def _call_all(engine, viewer: Viewer) -> dict[str, object]:
    with engine.connect() as c:
        target = c.execute(text(
            "select id from appeals where (text like 'Меня зовут%' or text like '%8-913-%') and author_ref is not null "
            "order by case when first_response_at is null then 0 else 1 end, id limit 1")).scalar_one()
        terr = pd.read_sql(text("select id, code, parent_id from municipalities"), c)
    factories = {
        "filters": Filters(dt.date(2020, 11, 1), dt.date(2021, 4, 30)), "viewer": viewer, "now": SMALL_AS_OF,
        "as_of": SMALL_AS_OF,
        "appeal_id": target, "group": None, "grain": "week", "metrics": [1], "measures": ["received"],
        "territories": terr, "codes": ("50701000", "50708000"),
        # the spike alerts (aggregates): a week, its cells and their sparklines
        "week": dt.date(2021, 3, 8), "d_from": dt.date(2021, 3, 1), "d_to": dt.date(2021, 3, 31),
        "cells": [(1, 1)], "last_week": dt.date(2021, 3, 8), "weeks": 4,
    }
    results = {}
    for fn in _query_functions():
        params = inspect.signature(fn).parameters
        missing = [p for p, v in params.items() if v.default is v.empty and p != "conn" and p not in factories]
        assert not missing, f"{fn.__module__}.{fn.__name__}: add a factory for {missing} to this test"
        with engine.connect() as c:
            kwargs = {p: factories[p] for p, v in params.items() if p != "conn" and v.default is v.empty}
            try:
                results[f"{fn.__module__}.{fn.__name__}"] = fn(c, **kwargs)
            except AccessDenied:
                results[f"{fn.__module__}.{fn.__name__}"] = None
    return results


PLANTED = "Меня зовут Ирина Петрова, двор дома 105 по ул. Центральной не чистят. Мой телефон 8-913-123-45-67."


def test_press_gets_no_personal_data_from_any_query_function(small_db):
    # an overdue appeal with a name, an address and a phone, as the attacker of the issue found one
    with small_db.begin() as c:
        overdue_id, old = c.execute(text(
            "select id, text from appeals where first_response_at is null and status in ('new', 'assigned', "
            "'in_progress') and response_due_at < :now order by response_due_at limit 1"),
            {"now": SMALL_AS_OF.replace(tzinfo=None).isoformat() if small_db.dialect.name == "sqlite"
             else SMALL_AS_OF}).one()
        c.execute(text("update appeals set text = :t where id = :i"), {"t": PLANTED, "i": overdue_id})
    try:
        _check_press_and_analyst(small_db)
    finally:
        with small_db.begin() as c:
            c.execute(text("update appeals set text = :t where id = :i"), {"t": old, "i": overdue_id})


def _check_press_and_analyst(small_db):
    press = _call_all(small_db, Viewer("p", "press"))
    assert {"queries.speed.overdue_now", "queries.cases.case_list", "queries.cases.case_card"} <= set(press)
    leaks = {name: [v[:80] for _, v in _strings(res) if SEEDED_PII.search(v)] for name, res in press.items()}
    assert not {k: v for k, v in leaks.items() if v}, leaks
    assert not {name: _links(res) for name, res in press.items() if _links(res)}
    # the same reads do carry personal data for the analyst: the check above can fail
    analyst = _call_all(small_db, Viewer("a", "analyst"))
    shown = {name for name, res in analyst.items() if any(SEEDED_PII.search(v) for _, v in _strings(res))}
    assert {"queries.speed.overdue_now", "queries.cases.case_card"} <= shown
    assert MASK in " ".join(v for _, v in _strings(press["queries.speed.overdue_now"]))
