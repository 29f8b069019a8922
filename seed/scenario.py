"""The default scenario: volumes, channels, topic mix and seasons of ЦУР НСО, 2020-11-26 onwards.

Every number here is either a published figure (calibration.md, cur_facts.ru.md [S…]) or a stated
assumption. Monthly volumes are fixed per channel group; days, hours, channels within social
networks, territories and topics are drawn from the distributions below.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

CENTRE_START = dt.date(2020, 11, 26)
META_BAN = dt.date(2022, 3, 21)  # Instagram and Facebook blocked in Russia
WEB_SHARE = 0.015  # website and other channels, on top of social + ПОС

# Early months: (ПОС, social networks). 20 000 appeals in the first four months [A];
# September 2021: 6 390 via ПОС and 2 390 from social networks [S1].
EARLY_MONTHS: dict[tuple[int, int], tuple[int, int]] = {
    (2020, 11): (210, 250), (2020, 12): (1720, 2030), (2021, 1): (2240, 2650), (2021, 2): (2390, 2600),
    (2021, 3): (3010, 2910), (2021, 4): (3700, 2600), (2021, 5): (4100, 2500), (2021, 6): (4600, 2400),
    (2021, 7): (5000, 2350), (2021, 8): (5600, 2350), (2021, 9): (6390, 2390), (2021, 10): (6500, 2450),
    (2021, 11): (6600, 2500), (2021, 12): (6700, 2550),
}
# Later years: (ПОС, social networks) per year. 2023: 98 400 and 55 000 [S2]; 2022 back-computed
# from the +26 % / +66 % growth [S2]; 2024 H1 social > 42 500 [S7]; 2025 on: assumed slower growth.
ANNUAL: dict[int, tuple[int, int]] = {
    2022: (78000, 33000), 2023: (98400, 55000), 2024: (112000, 90000), 2025: (122000, 100000),
    2026: (128000, 108000),
}
ANNUAL_GROWTH_AFTER = 1.03
# Share of a year's volume per month: snow in winter, a summer lull, the heating season in autumn.
MONTH_SEASON = np.array([1.08, 1.04, 1.10, 1.02, 0.95, 0.90, 0.88, 0.93, 1.00, 1.05, 1.02, 1.03])
WEEKDAY_FACTOR = np.array([1.12, 1.10, 1.08, 1.06, 1.02, 0.80, 0.72])

# Hour-of-day profiles (local time): social posts peak in the evening, ПОС in office hours.
HOURS_SOCIAL = np.array([1, .6, .4, .3, .3, .5, 1.2, 2.5, 4, 5, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 6, 6.5, 7, 7, 6, 4.5, 2.5])
HOURS_POS = np.array([.5, .3, .2, .2, .2, .4, 1, 2.5, 5, 7, 8, 8, 7, 7.5, 8, 7.5, 7, 6, 4.5, 3.5, 3, 2.5, 1.8, 1])

CATEGORIES = ["covid", "roads", "housing", "landscaping", "waste", "transport", "healthcare", "education",
              "social", "ecology", "culture_sport", "safety", "communications", "construction", "other"]
NONCOVID = CATEGORIES[1:]

# COVID-19's share of all appeals: dominant through 2021 (60 % vaccination in the first months [A],
# 42 % in September 2021 [S1]), fading during 2022.
COVID_SHARE_ANCHORS = [
    (dt.date(2020, 11, 26), 0.56), (dt.date(2021, 1, 20), 0.67), (dt.date(2021, 3, 31), 0.63),
    (dt.date(2021, 7, 1), 0.50), (dt.date(2021, 9, 15), 0.425), (dt.date(2021, 11, 15), 0.45),
    (dt.date(2022, 2, 1), 0.25), (dt.date(2022, 6, 1), 0.05), (dt.date(2023, 1, 1), 0.01),
    (dt.date(2024, 1, 1), 0.003), (dt.date(2030, 1, 1), 0.002),
]
# Within COVID-19: vaccination, treatment/testing, restrictions/QR codes.
COVID_MIX_ANCHORS = [
    (dt.date(2020, 11, 26), [0.93, 0.05, 0.02]), (dt.date(2021, 3, 31), [0.95, 0.03, 0.02]),
    (dt.date(2021, 9, 15), [0.70, 0.10, 0.20]), (dt.date(2021, 11, 15), [0.55, 0.10, 0.35]),
    (dt.date(2022, 6, 1), [0.40, 0.40, 0.20]), (dt.date(2030, 1, 1), [0.40, 0.50, 0.10]),
]
# Non-COVID category weights in NONCOVID order, before seasonality: the first winter is all snow
# [A], September 2021 per [S1], from 2023 the long tail that [S7]'s five named topics leave.
NONCOVID_ANCHORS = [
    (dt.date(2021, 1, 1), [65, 10, 26.5, 3, 3, 5, 2, 3, 1, .5, 1, 1, .5, 3]),
    (dt.date(2021, 9, 1), [33, 17, 14, 6, 5, 7, 6, 5, 2, 2, 2, 2, 2, 3]),
    # «Прочее» at 6: the long tail is spread over the real categories (waste, education, social…),
    # as the centre's reports show them, keeping roads', ЖКХ's, landscaping's, transport's and
    # healthcare's shares of [S7] as they were
    (dt.date(2023, 6, 1), [11, 7.2, 3.9, 13.28, 2.6, 2.6, 9.49, 11.38, 5.69, 5.69, 5.69, 7.59, 5.69, 6]),
]
CATEGORY_SEASON = {
    "roads": [1.3, 1.3, 1.25, 1.2, 1.1, 1, 1, 1, .9, .9, 1.1, 1.3],
    "housing": [1.1, 1.05, 1, .9, .8, .9, .9, 1, 1.4, 1.5, 1.2, 1.1],
    "landscaping": [1.2, 1.2, 1, 1, 1.2, 1.2, 1.2, 1.1, 1, .9, 1, 1.2],
    "education": [1, 1, 1, 1, 1.1, .8, .7, 1.2, 1.6, 1.1, 1, 1],
    "ecology": [.8, .8, 1, 1.3, 1.4, 1.2, 1.1, 1, .9, .9, .8, .8],
}
FLAT = [1.0] * 12
WINTER = [2, 2, 1.5, .3, 0, 0, 0, 0, 0, .3, 1.5, 2]
SUMMER = [.3, .3, .5, 1.2, 1.6, 1.6, 1.6, 1.5, 1.2, .8, .4, .3]
# Topic weights within their category, with month-of-year multipliers.
TOPIC_WEIGHTS: dict[str, tuple[float, list[float]]] = {
    "covid.vaccination": (1, FLAT), "covid.treatment": (1, FLAT), "covid.restrictions": (1, FLAT),
    "roads.repair": (3, [.2, .2, .4, 1.2, 1.6, 1.6, 1.6, 1.5, 1.3, .9, .3, .2]),
    "roads.snow": (5.5, [1.8, 1.8, 1.5, .3, 0, 0, 0, 0, 0, .3, 1.6, 1.8]),
    "roads.lighting": (1, [1.3, 1.1, 1, .8, .6, .5, .5, .6, .9, 1.3, 1.4, 1.4]),
    "roads.flooding": (.6, [0, .1, .8, 3, 2, .8, .8, .6, .3, .2, 0, 0]),
    "roads.traffic": (.7, FLAT),
    "housing.heating": (2.5, [1.3, 1.1, .9, .6, .3, .1, .1, .3, 2.2, 2.5, 1.5, 1.3]),
    "housing.water": (2, [.9, .9, .9, .9, 1, 1.6, 1.8, 1.4, .9, .9, .9, .9]),
    "housing.water_quality": (.8, FLAT),
    "housing.electricity": (1.2, [1, 1, 1, 1, 1.1, 1.3, 1.3, 1.2, 1, 1, 1, 1]),
    "housing.buildings": (2.5, FLAT),
    "housing.roof_snow": (2.2, [2.2, 2.2, 2, .8, 0, 0, 0, 0, 0, .1, 1, 2]),
    "housing.capital_repair": (.8, FLAT), "housing.gas": (.6, FLAT),
    "landscaping.yards": (2.5, SUMMER),
    "landscaping.yard_snow": (3.6, WINTER),
    "landscaping.public_spaces": (1.2, FLAT),
    "landscaping.greenery": (1, [.3, .3, .5, 1.2, 1.8, 1.6, 1.4, 1.2, 1, .8, .4, .3]),
    "landscaping.playgrounds": (.8, [.4, .4, .5, .8, 1.4, 1.6, 1.6, 1.4, 1, .7, .5, .4]),
    "waste.collection": (3, [1, 1, 1, 1.1, 1.2, 1.3, 1.3, 1.2, 1, 1, 1, 1]), "waste.dumps": (1, SUMMER),
    "transport.routes": (2, FLAT), "transport.quality": (1.5, FLAT), "transport.stops": (.8, FLAT),
    "healthcare.appointments": (2.5, FLAT), "healthcare.medicines": (1.2, FLAT),
    "healthcare.clinics": (2, FLAT), "healthcare.ambulance": (.8, FLAT),
    "education.schools": (1.5, FLAT), "education.kindergartens": (1.2, FLAT),
    "social.benefits": (2, FLAT), "social.services": (1, FLAT), "social.employment": (.8, FLAT),
    "ecology.air": (1, [1.4, 1.4, 1.2, 1, .8, .7, .7, .7, .8, 1, 1.2, 1.4]), "ecology.forests": (.8, SUMMER),
    "ecology.animals": (1.2, FLAT),
    "culture_sport.culture": (1, FLAT), "culture_sport.sport": (1, FLAT),
    "safety.emergencies": (.6, [1, 1, 1.2, 1.8, 2, 1.2, 1, 1, 1, 1, 1, 1]), "safety.public_order": (1, FLAT),
    "communications.internet": (1.5, FLAT), "communications.gosuslugi": (1, FLAT),
    "construction.unfinished": (1, FLAT), "construction.social_objects": (1, FLAT),
    "other.general": (4, FLAT), "other.mandates": (1, FLAT),
}
SNOW_TOPICS = ("roads.snow", "landscaping.yard_snow", "housing.roof_snow")

# Territories write roughly by population; Бердск about twice its share, Новосибирский район
# less [S7]. Other territories get a seeded random activity around 1.
ACTIVITY = {"50701000": 1.03, "50708000": 1.85, "50640000": 0.68}
CITY_LEVEL_SHARE = 0.15  # of Novosibirsk's appeals, those about the city as a whole


@dataclass(frozen=True)
class Incident:
    """A documented local incident on top of the seasons, so that the spike alerts have something to
    find (docs/spikes.md measures their recall): `extra` appeals at scale 1 of the incident's week
    are moved into its territory and topic (the week's totals stay as calibrated)."""
    name: str
    territory: str     # municipality code
    topic: str         # leaf topic code
    week: dt.date      # its Monday
    extra: int


INCIDENTS = (
    # Бердск: a boiler house fails in a January frost
    Incident("heating", "50708000", "housing.heating", dt.date(2024, 1, 15), 45),
    # Маслянинский район: the spring flood over the roads, worse than every spring
    Incident("flood", "50636000", "roads.flooding", dt.date(2024, 4, 15), 30),
    # Новосибирский район: a suburban bus route cut
    Incident("bus_route", "50640000", "transport.routes", dt.date(2025, 9, 8), 35),
)


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out, d = [], dt.date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def month_volumes(month: dt.date) -> tuple[float, float, float]:
    """(ПОС, social networks, website+other) appeals expected in the calendar month."""
    key = (month.year, month.month)
    if key in EARLY_MONTHS:
        pos, social = EARLY_MONTHS[key]
    else:
        year = month.year
        if year in ANNUAL:
            pos_y, social_y = ANNUAL[year]
        else:
            last = max(ANNUAL)
            growth = ANNUAL_GROWTH_AFTER ** (year - last)
            pos_y, social_y = ANNUAL[last][0] * growth, ANNUAL[last][1] * growth
        season = MONTH_SEASON[month.month - 1] / 12.0
        pos, social = pos_y * season, social_y * season
    return float(pos), float(social), float((pos + social) * WEB_SHARE)


def _interp(anchors, day_ordinals: np.ndarray) -> np.ndarray:
    xs = np.array([a[0].toordinal() for a in anchors], dtype=float)
    ys = np.array([a[1] for a in anchors], dtype=float)
    if ys.ndim == 1:
        return np.interp(day_ordinals, xs, ys)
    return np.stack([np.interp(day_ordinals, xs, ys[:, j]) for j in range(ys.shape[1])], axis=1)


def social_split(days: list[dt.date]) -> tuple[list[str], np.ndarray]:
    """Per day, the shares of vk, ok, telegram, instagram, facebook among social-network appeals."""
    names = ["vk", "ok", "telegram", "instagram", "facebook"]
    out = np.zeros((len(days), 5))
    for i, d in enumerate(days):
        if d < META_BAN:
            out[i] = [0.755, 0.06, 0.0, 0.18, 0.005]  # September 2021: 76 / 18 / 6 % [S1]
        else:
            tg = {2022: 0.03, 2023: 0.06, 2024: 0.08, 2025: 0.10}.get(d.year, 0.11)
            okv = 0.07 if d < dt.date(2022, 12, 1) else 0.09  # official OK accounts mandatory from 2022-12 [S19]
            out[i] = [1 - tg - okv, okv, tg, 0.0, 0.0]
    return names, out


def topic_probabilities(days: list[dt.date], topic_codes: list[str]) -> np.ndarray:
    """Per day, the probability of each leaf topic (rows sum to 1)."""
    ords = np.array([d.toordinal() for d in days], dtype=float)
    moy = np.array([d.month - 1 for d in days])
    covid = _interp(COVID_SHARE_ANCHORS, ords)
    covid_mix = _interp(COVID_MIX_ANCHORS, ords)
    cat_w = _interp(NONCOVID_ANCHORS, ords)
    for j, cat in enumerate(NONCOVID):
        cat_w[:, j] *= np.array(CATEGORY_SEASON.get(cat, FLAT))[moy]
    cat_w = cat_w / cat_w.sum(axis=1, keepdims=True) * (1 - covid)[:, None]
    probs = np.zeros((len(days), len(topic_codes)))
    covid_codes = ["covid.vaccination", "covid.treatment", "covid.restrictions"]
    for j, code in enumerate(topic_codes):
        cat = code.split(".")[0]
        if cat == "covid":
            probs[:, j] = covid * covid_mix[:, covid_codes.index(code)]
            continue
        siblings = [c for c in topic_codes if c.split(".")[0] == cat]
        w = np.stack([TOPIC_WEIGHTS[c][0] * np.array(TOPIC_WEIGHTS[c][1])[moy] for c in siblings], axis=1)
        share = w[:, siblings.index(code)] / np.maximum(w.sum(axis=1), 1e-12)
        probs[:, j] = cat_w[:, NONCOVID.index(cat)] * share
    return probs / probs.sum(axis=1, keepdims=True)
