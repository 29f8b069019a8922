"""The demo-data generator: one seeded numpy Generator, vectorised month by month.

Grain: one row per appeal in `appeals`, one row per timeline step in `appeal_events`. Each
appeal's timeline is drawn first (received → assigned → response → closed → feedback →
escalation → reopening → second closing); the columns are then read off the timeline as of the
scenario's `as_of` moment, so the two always agree.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd

from queries.workcal import DAY_S, LOCAL_OFFSET_S, WorkCalendar
from seed import scenario as sc
from seed import texts
from ingest.reference import Reference

NOVOSIBIRSK_CODE = "50701000"  # the demo scenario is Novosibirsk Oblast's

H = 3600
NEVER = np.iinfo(np.int64).max // 4
UTC = dt.timezone.utc
EVENT_ORDER = ["received", "assigned", "reassigned", "comment_removed", "author_blocked", "response",
               "interim_response", "closed", "citizen_confirmed", "citizen_disputed", "escalated", "reopened"]
GENERATOR_VERSION = "2"  # 2: «Прочее» under 10 % from 2023; each month's topic totals exact for any seed


def _largest_remainder(expected: np.ndarray) -> np.ndarray:
    """Whole counts summing to round(expected.sum()), each within one of its expected value."""
    total = int(round(expected.sum()))
    base = np.floor(expected).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        base[np.argsort(-(expected - base), kind="stable")[:rest]] += 1
    return base


def _exact_totals(rng: np.random.Generator, t_idx: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The month's topics with each topic's count set to its expected count (largest remainder):
    the published totals (roads, vaccination, landscaping in the first months) then hold by
    construction for any seed, not by luck of the draw. Only the surplus of over-drawn topics is
    moved, to the under-drawn ones, so each appeal keeps its day's topic mix otherwise."""
    target = _largest_remainder(expected)
    counts = np.bincount(t_idx, minlength=len(expected))
    surplus = counts - target
    if not surplus.any():
        return t_idx
    movers = np.concatenate([rng.choice(np.flatnonzero(t_idx == k), int(surplus[k]), replace=False)
                             for k in np.flatnonzero(surplus > 0)])
    fill = np.repeat(np.arange(len(expected)), np.maximum(-surplus, 0))
    rng.shuffle(fill)
    out = t_idx.copy()
    out[movers] = fill
    return out


@dataclass(frozen=True)
class Scenario:
    """What to generate: the seed, the moment the data is as of (UTC), and a volume multiplier."""
    seed: int = 20201126
    as_of: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    scale: float = 1.0

    @property
    def as_of_s(self) -> int:
        return int(self.as_of.timestamp())

    @property
    def as_of_local_date(self) -> dt.date:
        return (self.as_of + dt.timedelta(seconds=LOCAL_OFFSET_S)).date()


@dataclass
class Chunk:
    """One month of generated rows, as column arrays ready for bulk loading."""
    month: dt.date
    appeals: pd.DataFrame
    events: pd.DataFrame


def _local_midnight_s(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days * DAY_S - LOCAL_OFFSET_S


@dataclass
class Personas:
    """Per-executor behaviour, indexed by organization id."""
    speed: np.ndarray       # median working hours to the first response
    tail: np.ndarray        # share of responses in the long late tail
    close_days: np.ndarray  # median calendar days to closing
    quality: np.ndarray     # shift of the resolved share
    confirm: np.ndarray     # P(citizen confirms | citizen answers)
    censor: np.ndarray      # P(a social-network comment is removed)
    parent: np.ndarray      # escalation target (0 = none)
    is_clinic: np.ndarray


FAST = {"minzdrav": 0.8, "gzhi": 0.9, "minkult": 0.9, "admin.krasnozyorsky_district": 0.8,
        "admin.novosibirsky_district": 0.9, "admin.kuybyshevsky_district": 0.9, "mincifry": 1.0}
SLOW = {"tko_operator": 6.5, "admin.tatarsky_district": 5.0, "admin.kupinsky_district": 5.5,
        "clinic.novosibirsk_leninsky_city_district": 5.0, "sgk": 4.0, "fond_kapremonta": 7.0,
        "admin.bolotninsky_district": 4.5, "clinic.karasuksky_district": 4.5}
CENSORS = {"admin.chistoozyorny_district": 0.06, "admin.kargatsky_district": 0.05, "tko_operator": 0.03}


def make_personas(rng: np.random.Generator, ref: Reference) -> Personas:
    orgs = ref.organizations
    n = int(orgs["id"].max()) + 1
    speed = np.full(n, 2.0)
    speed[orgs["id"]] = np.clip(np.exp(rng.normal(np.log(2.0), 0.45, len(orgs))), 0.6, 6.0)
    tail = np.full(n, 0.06)
    tail[orgs["id"]] = np.clip(rng.normal(0.06, 0.02, len(orgs)), 0.01, 0.15)
    for code, value in FAST.items():
        speed[ref.org_id(code)], tail[ref.org_id(code)] = value, 0.02
    for code, value in SLOW.items():
        speed[ref.org_id(code)], tail[ref.org_id(code)] = value, 0.22
    close_days = np.full(n, 3.0)
    close_days[orgs["id"]] = np.exp(rng.normal(np.log(3.0), 0.4, len(orgs)))
    quality = np.zeros(n)
    quality[orgs["id"]] = np.clip(rng.normal(0, 0.04, len(orgs)), -0.1, 0.08)
    confirm = np.full(n, 0.86)
    confirm[orgs["id"]] = np.clip(rng.normal(0.86, 0.05, len(orgs)), 0.6, 0.97)
    for code in SLOW:
        quality[ref.org_id(code)] -= 0.06
        confirm[ref.org_id(code)] -= 0.12
    censor = np.full(n, 0.0008)
    for code, value in CENSORS.items():
        censor[ref.org_id(code)] = value
    parent = np.zeros(n, dtype=np.int64)
    parent[orgs["id"]] = orgs["parent_id"].fillna(0).astype(np.int64).to_numpy()
    is_clinic = np.zeros(n, dtype=bool)
    is_clinic[orgs["id"]] = (orgs["kind"] == "clinic").to_numpy()
    return Personas(speed, tail, close_days, quality, confirm, censor, parent, is_clinic)


HEAT_SGK = {"50701000", "50717000"}
HEAT_NTSK = {"50708000", "50712000", "koltsovo", "50640000"}


def _route(topic: str, muni: dict, city_slug: str) -> tuple[str, str | None, float]:
    """(primary executor code, secondary code, P(secondary)) for a topic in a territory."""
    cat = topic.split(".")[0]
    slug = muni["slug"]
    admin = f"admin.{slug}"
    is_city_level = muni["code"] == NOVOSIBIRSK_CODE
    in_city = is_city_level or muni["kind"] == "city_district"
    clinic = "minzdrav" if is_city_level else f"clinic.{slug}"
    heat_key = "50701000" if in_city else muni["code"]
    if topic in ("covid.vaccination", "covid.treatment") or cat == "healthcare":
        return clinic, "minzdrav", 0.08
    if topic == "covid.restrictions":
        return "minzdrav", admin, 0.3
    if cat in ("roads", "landscaping"):
        if is_city_level:
            return "novosibirsk.roads_dept", None, 0.0
        if in_city:
            return admin, "novosibirsk.roads_dept", 0.35
        return admin, ("mintrans" if cat == "roads" else None), 0.25 if cat == "roads" else 0.0
    if topic == "housing.heating":
        if heat_key in HEAT_SGK:
            return "sgk", admin, 0.15
        if heat_key in HEAT_NTSK:
            return "ntsk", admin, 0.15
        return admin, "minzhkh", 0.1
    if topic == "housing.capital_repair":
        return "fond_kapremonta", "gzhi", 0.1
    if topic == "housing.gas":
        return "minzhkh", admin, 0.3
    if topic == "housing.buildings":
        return "gzhi", admin, 0.45
    if cat == "housing":
        return admin, "gzhi", 0.2
    if topic == "waste.dumps":
        return admin, "tko_operator", 0.3
    if cat == "waste":
        return "tko_operator", admin, 0.2
    if cat == "transport":
        return ("mintrans", admin, 0.6) if in_city else ("mintrans", admin, 0.3)
    if cat == "education":
        return admin, "minobr", 0.3
    if cat == "social":
        return "mintrud", admin, 0.1
    if topic == "ecology.animals":
        return admin, "minprirody", 0.1
    if cat == "ecology":
        return "minprirody", admin, 0.2
    if topic == "culture_sport.culture":
        return "minkult", admin, 0.35
    if topic == "culture_sport.sport":
        return "minsport", admin, 0.35
    if cat == "safety":
        return admin, None, 0.0
    if cat == "communications":
        return "mincifry", None, 0.0
    if cat == "construction":
        return "minstroy", "dizo", 0.1
    return admin, "minregpolitiki", 0.08


class Generator:
    """Generates the default scenario month by month from one seeded numpy Generator."""

    def __init__(self, ref: Reference, scenario: Scenario, calendar: WorkCalendar):
        self.ref, self.sc, self.cal = ref, scenario, calendar
        self.rng = np.random.default_rng(scenario.seed)
        rng = self.rng
        self.personas = make_personas(rng, ref)
        topics = ref.topics
        self.leaf = topics[topics["parent_id"].notna()].reset_index(drop=True)
        self.leaf_codes = self.leaf["code"].tolist()
        self.leaf_ids = self.leaf["id"].to_numpy()
        self.leaf_norm = self.leaf["response_norm_hours"].to_numpy(dtype=float)
        close_factor = {"roads": 2.5, "construction": 4.0, "housing": 1.4, "landscaping": 2.0, "covid": 0.7}
        self.leaf_close = np.array([close_factor.get(c.split(".")[0], 1.0) for c in self.leaf_codes])
        self.leaf_close[self.leaf_codes.index("housing.capital_repair")] = 5.0
        for code in sc.SNOW_TOPICS:
            self.leaf_close[self.leaf_codes.index(code)] = 0.8

        munis = ref.municipalities.reset_index(drop=True)
        self.munis = munis
        activity = np.exp(rng.normal(0, 0.25, len(munis)))
        for code, value in sc.ACTIVITY.items():
            activity[munis.index[munis["code"] == code][0]] = value
        city_idx = munis.index[munis["code"] == NOVOSIBIRSK_CODE][0]
        districts = munis["kind"] == "city_district"
        activity[districts.to_numpy()] = activity[city_idx]
        pop = munis["population"].to_numpy(dtype=float)
        w = pop * activity
        city_total = w[city_idx]
        w[districts.to_numpy()] = pop[districts.to_numpy()] / pop[districts.to_numpy()].sum() * city_total * (1 - sc.CITY_LEVEL_SHARE)
        w[city_idx] = city_total * sc.CITY_LEVEL_SHARE
        self.muni_cum = np.cumsum(w / w.sum())
        self.muni_ids = munis["id"].to_numpy()
        self.places = munis["center_ru"].fillna(munis["name_ru"]).str.replace(r"\s*\(.*\)", "", regex=True).to_numpy()

        # routing tables [leaf topic index, municipality index]
        city_slug = munis.loc[city_idx, "slug"]
        shape = (len(self.leaf_codes), len(munis))
        self.route_primary = np.zeros(shape, dtype=np.int64)
        self.route_secondary = np.zeros(shape, dtype=np.int64)
        self.route_p = np.zeros(shape)
        for i, code in enumerate(self.leaf_codes):
            for j, m in enumerate(munis.to_dict("records")):
                prim, sec, p = _route(code, m, city_slug)
                self.route_primary[i, j] = ref.org_id(prim)
                self.route_secondary[i, j] = ref.org_id(sec) if sec else ref.org_id(prim)
                self.route_p[i, j] = p if sec else 0.0
        orgs = ref.organizations
        self.wrong_pool = orgs.loc[orgs["kind"].isin(["municipal_admin", "ministry"]), "id"].to_numpy()
        self.org_short = dict(zip(orgs["id"], orgs["short_name_ru"].fillna(orgs["name_ru"])))
        self.author_salt = f"pulse-cur-{scenario.seed}"
        self.author_pool = max(1000, int(400_000 * scenario.scale))
        self.next_appeal_id = 1
        self.next_event_id = 1

    # ---- volumes -------------------------------------------------------------------------
    def _receipts(self, month: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(received seconds, day index within month, source) for one month, before the as-of cut."""
        rng = self.rng
        nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        days = [d for d in (month + dt.timedelta(i) for i in range((nxt - month).days)) if d >= sc.CENTRE_START]
        weights = sc.WEEKDAY_FACTOR[[d.weekday() for d in days]] * np.exp(rng.normal(0, 0.12, len(days)))
        weights = weights / weights.sum()
        pos, social, web = (v * self.sc.scale for v in sc.month_volumes(month))
        names, split = sc.social_split(days)
        received, day_idx, source = [], [], []
        for group, volume, hours in (("pos", pos, sc.HOURS_POS), ("social", social, sc.HOURS_SOCIAL),
                                     ("web", web, sc.HOURS_POS)):
            count = int(round(volume))
            per_day = rng.multinomial(count, weights)
            d_idx = np.repeat(np.arange(len(days)), per_day)
            hour = rng.choice(24, size=count, p=hours / hours.sum())
            sec = rng.integers(0, 3600, count)
            midnight = np.array([_local_midnight_s(d) for d in days], dtype=np.int64)
            received.append(midnight[d_idx] + hour * H + sec)
            day_idx.append(d_idx)
            if group == "pos":
                source.append(np.full(count, "pos", dtype=object))
            elif group == "social":
                cum = np.cumsum(split[d_idx], axis=1)
                pick = (rng.random(count)[:, None] > cum).sum(axis=1).clip(0, 4)
                source.append(np.array(names, dtype=object)[pick])
            else:
                source.append(np.where(rng.random(count) < 0.7, "website", "other").astype(object))
        received = np.concatenate(received)
        order = np.argsort(received, kind="stable")
        return received[order], np.concatenate(day_idx)[order], np.concatenate(source)[order], days

    # ---- one month -------------------------------------------------------------------------
    def month(self, month: dt.date) -> Chunk | None:
        rng, cal, P = self.rng, self.cal, self.personas
        T = self.sc.as_of_s
        received, day_idx, source, days = self._receipts(month)
        keep = received < T
        received, day_idx, source = received[keep], day_idx[keep], source[keep]
        n = len(received)
        if n == 0:
            return None
        # territory and topic
        m_idx = np.searchsorted(self.muni_cum, rng.random(n), side="right").clip(0, len(self.muni_ids) - 1)
        probs = sc.topic_probabilities(days, self.leaf_codes)
        cum = np.cumsum(probs, axis=1)
        t_idx = (rng.random(n)[:, None] > cum[day_idx]).sum(axis=1).clip(0, len(self.leaf_codes) - 1)
        t_idx = _exact_totals(rng, t_idx, n * probs[day_idx].mean(axis=0))
        self._incidents(month, days, day_idx, m_idx, t_idx)
        # executor
        use_sec = rng.random(n) < self.route_p[t_idx, m_idx]
        org = np.where(use_sec, self.route_secondary[t_idx, m_idx], self.route_primary[t_idx, m_idx])
        social = np.isin(source, ["vk", "ok", "telegram", "instagram", "facebook"])

        # timeline
        assigned = received + rng.integers(120, 2400, n)
        reassign = rng.random(n) < 0.05
        wrong = self.wrong_pool[rng.integers(0, len(self.wrong_pool), n)]
        reassign &= wrong != org
        initial_org = np.where(reassign, wrong, org)
        reassigned = np.where(reassign, assigned + rng.integers(1200, 10800, n), NEVER)
        due = cal.add_work_hours(received, self.leaf_norm[t_idx])
        wh = P.speed[org] * np.exp(rng.normal(0, 0.75, n))
        late = rng.random(n) < P.tail[org]
        wh = np.where(late, wh * rng.uniform(2.5, 9, n), wh)
        fr = cal.add_work_hours(received, wh)
        floor = np.where(reassign, reassigned, assigned) + 300
        fr = np.maximum(fr, floor)
        cdays = P.close_days[org] * self.leaf_close[t_idx] * np.exp(rng.normal(0, 0.9, n))
        closed1 = np.maximum(fr + 600, received + (cdays * DAY_S).astype(np.int64))
        # outcome at the first closing
        ords = received // DAY_S
        p_res = np.interp(ords, [18600, 18760, 19100, 19400], [0.875, 0.865, 0.70, 0.66]) + P.quality[org]
        u = rng.random(n)
        status1 = np.where(u < p_res, "resolved", np.where(u < p_res + (1 - p_res) * 0.75, "explained", "declined")).astype(object)
        long_case = (closed1 - fr) > 2 * DAY_S
        has_interim = long_case & (rng.random(n) < 0.3)
        interim = np.where(has_interim, fr + ((closed1 - fr) * rng.uniform(0.3, 0.7, n)).astype(np.int64), NEVER)
        resolved1 = status1 == "resolved"
        answered1 = resolved1 & (rng.random(n) < 0.55)
        confirmed1 = rng.random(n) < P.confirm[org]
        fb1_at = np.where(answered1, closed1 + rng.integers(2 * H, 72 * H, n), NEVER)
        disputed1 = answered1 & ~confirmed1
        # rating, given with the feedback or after the closing
        rated = rng.random(n) < 0.45
        rating_at = np.where(answered1, fb1_at, closed1 + rng.integers(2 * H, 72 * H, n))
        dist = {
            "confirmed": [0.01, 0.01, 0.03, 0.20, 0.75], "disputed": [0.45, 0.25, 0.15, 0.10, 0.05],
            "plain": [0.02, 0.015, 0.04, 0.26, 0.665], "declined": [0.2, 0.15, 0.15, 0.25, 0.25],
        }
        klass = np.where(answered1 & confirmed1, 0, np.where(disputed1, 1, np.where(status1 == "declined", 3, 2)))
        cums = np.cumsum(np.array([dist["confirmed"], dist["disputed"], dist["plain"], dist["declined"]]), axis=1)
        rating = (rng.random(n)[:, None] > cums[klass]).sum(axis=1).clip(0, 4) + 1
        # escalation: the clinic → Минздрав path when the citizen does not confirm, rarer elsewhere
        parent = P.parent[org]
        has_parent = parent > 0
        clinic = P.is_clinic[org]
        p_esc = np.where(disputed1, np.where(clinic, 0.6, 0.22), np.where(clinic & ~answered1 & (status1 != "declined"), 0.02, 0.0))
        escalate = has_parent & (rng.random(n) < p_esc)
        esc_base = np.where(disputed1, fb1_at, closed1 + rng.integers(DAY_S, 5 * DAY_S, n))
        esc_at = np.where(escalate, esc_base + rng.integers(H, 48 * H, n), NEVER)
        reopen = escalate | (disputed1 & (rng.random(n) < 0.45))
        reopen_at = np.where(escalate, esc_at + rng.integers(H // 2, 4 * H, n),
                             np.where(reopen, fb1_at + rng.integers(2 * H, 48 * H, n), NEVER))
        actor2 = np.where(escalate, parent, org)
        closed2 = np.where(reopen, reopen_at + (np.exp(rng.normal(np.log(3), 0.8, n)) * DAY_S).astype(np.int64), NEVER)
        u2 = rng.random(n)
        status2 = np.where(u2 < 0.72, "resolved", np.where(u2 < 0.94, "explained", "declined")).astype(object)
        answered2 = reopen & (status2 == "resolved") & (rng.random(n) < 0.5)
        confirmed2 = rng.random(n) < 0.7
        fb2_at = np.where(answered2, closed2 + rng.integers(2 * H, 72 * H, n), NEVER)
        # moderation: rare comment removals and author blocks, concentrated in a few executors
        removed = social & (rng.random(n) < P.censor[org])
        removed_at = np.where(removed, received + rng.integers(H, 48 * H, n), NEVER)
        blocked = social & (rng.random(n) < P.censor[org] * 0.3)
        blocked_at = np.where(blocked, np.where(removed, removed_at, received + rng.integers(H, 48 * H, n)) + 600, NEVER)

        # as of T
        has_fr = fr <= T
        c1 = closed1 <= T
        f1 = fb1_at <= T
        e = esc_at <= T
        ro = reopen_at <= T
        c2 = closed2 <= T
        f2 = fb2_at <= T
        closed_now = (c1 & ~ro) | c2
        status = np.where(c2, status2, np.where(c1 & ~ro, status1,
                          np.where(has_fr, "in_progress", np.where(assigned <= T, "assigned", "new")))).astype(object)
        closed_at = np.where(c2, closed2, np.where(c1 & ~ro, closed1, NEVER))
        feedback = np.where(f2, np.where(confirmed2, "confirmed", "disputed"),
                            np.where(f1, np.where(confirmed1, "confirmed", "disputed"), None)).astype(object)
        rating_final = np.where(rated & c1 & (rating_at <= T), rating, 0)
        fr_col = np.where(has_fr, fr, NEVER)
        esc_col = np.where(e, esc_at, NEVER)
        fr_wh = np.where(has_fr, cal.work_hours_between(received, np.where(has_fr, fr, received)), np.nan)
        esc_wh = np.where(e, cal.work_hours_between(received, np.where(e, esc_at, received)), np.nan)

        ids = np.arange(self.next_appeal_id, self.next_appeal_id + n, dtype=np.int64)
        self.next_appeal_id += n
        topic_codes = np.array(self.leaf_codes, dtype=object)[t_idx]
        text = texts.appeal_texts(rng, topic_codes, self.places[m_idx])
        author_idx = np.where(rng.random(n) < 0.3, rng.integers(0, 5000, n), rng.integers(0, self.author_pool, n))
        reach = np.where(social, np.exp(rng.normal(np.log(150), 1.3, n)).astype(np.int64), -1)
        appeals = pd.DataFrame({
            "id": ids,
            "external_id": [f"CUR-{i:08d}" for i in ids],
            "source": source,
            "source_url": self._urls(ids, source, m_idx),
            "author_ref": [self._author(a) for a in author_idx],
            "text": text,
            "received_at": received,
            "municipality_id": self.muni_ids[m_idx],
            "topic_id": self.leaf_ids[t_idx],
            "organization_id": org,
            "status": status,
            "response_due_at": due,
            "first_response_at": fr_col,
            "closed_at": closed_at,
            "escalated_at": esc_col,
            "escalated_to_id": np.where(e, parent, 0),
            "citizen_feedback": feedback,
            "citizen_rating": rating_final,
            "reopened_count": ro.astype(np.int64),
            "reach": reach,
            "first_response_work_hours": np.round(fr_wh, 4),
            "escalation_work_hours": np.round(esc_wh, 4),
        })
        assert (closed_now == (closed_at < NEVER)).all()

        slots = [
            ("received", np.ones(n, bool), received, np.zeros(n, np.int64), None),
            ("assigned", assigned <= T, assigned, initial_org, None),
            ("reassigned", reassigned <= T, reassigned, org, "Передано по компетенции"),
            ("comment_removed", removed_at <= T, removed_at, org, "Комментарий удалён администратором страницы"),
            ("author_blocked", blocked_at <= T, blocked_at, org, "Автор заблокирован в сообществе"),
            ("response", has_fr, fr, org, texts.FIRST_RESPONSES),
            ("interim_response", interim <= T, interim, org, texts.INTERIM),
            ("closed", c1, closed1, org, status1),
            ("citizen_feedback1", f1, fb1_at, np.zeros(n, np.int64), np.where(confirmed1, "citizen_confirmed", "citizen_disputed")),
            ("escalated", e, esc_at, parent, "Житель не подтвердил решение; обращение передано вышестоящему органу"),
            ("reopened", ro, reopen_at, actor2, "Обращение возвращено в работу"),
            ("closed", c2, closed2, actor2, status2),
            ("citizen_feedback2", f2, fb2_at, np.zeros(n, np.int64), np.where(confirmed2, "citizen_confirmed", "citizen_disputed")),
        ]
        ev = self._events(ids, slots, rng)
        return Chunk(month, appeals, ev)

    def _incidents(self, month: dt.date, days: list[dt.date], day_idx: np.ndarray, m_idx: np.ndarray,
                   t_idx: np.ndarray) -> None:
        """Move appeals of an incident's week into its cell (scenario.INCIDENTS), in place. Their own
        random stream: the rest of the data is the same with or without them."""
        codes = self.munis["code"].tolist()
        for k, inc in enumerate(sc.INCIDENTS):
            week = [i for i, d in enumerate(days) if inc.week <= d < inc.week + dt.timedelta(days=7)]
            if not week:
                continue
            m, tp = codes.index(inc.territory), self.leaf_codes.index(inc.topic)
            candidates = np.flatnonzero(np.isin(day_idx, week) & ~((m_idx == m) & (t_idx == tp)))
            # a week across two months: each month moves its days' part
            count = min(len(candidates), int(round(inc.extra * self.sc.scale * len(week) / 7)))
            if count:
                rng = np.random.default_rng([self.sc.seed, 7919, k, month.toordinal()])
                moved = rng.choice(candidates, size=count, replace=False)
                m_idx[moved], t_idx[moved] = m, tp

    def _events(self, ids: np.ndarray, slots, rng) -> pd.DataFrame:
        parts = []
        for order, (kind, mask, at, org, note) in enumerate(slots):
            idx = np.flatnonzero(mask)
            if not len(idx):
                continue
            if kind.startswith("citizen_feedback"):
                kinds = note[idx]
                notes = np.full(len(idx), None, dtype=object)
            else:
                kinds = np.full(len(idx), kind, dtype=object)
                if note is None:
                    notes = np.full(len(idx), None, dtype=object)
                elif isinstance(note, str):
                    notes = np.full(len(idx), note, dtype=object)
                elif isinstance(note, list):
                    notes = np.array(note, dtype=object)[rng.integers(0, len(note), len(idx))]
                else:  # closing statuses → the answer's text
                    st = note[idx]
                    notes = np.empty(len(idx), dtype=object)
                    for status, answers in texts.ANSWERS.items():
                        sel = st == status
                        notes[sel] = np.array(answers, dtype=object)[rng.integers(0, len(answers), sel.sum())]
            parts.append(pd.DataFrame({
                "appeal_id": ids[idx], "at": at[idx], "kind": kinds,
                "organization_id": org[idx], "note": notes, "_order": order,
            }))
        ev = pd.concat(parts, ignore_index=True)
        ev = ev.sort_values(["appeal_id", "at", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
        ev.insert(0, "id", np.arange(self.next_event_id, self.next_event_id + len(ev), dtype=np.int64))
        self.next_event_id += len(ev)
        return ev

    def _author(self, idx: int) -> str:
        return hashlib.blake2b(f"{self.author_salt}:{idx}".encode(), digest_size=8).hexdigest()

    def _urls(self, ids: np.ndarray, source: np.ndarray, m_idx: np.ndarray) -> list[str | None]:
        out: list[str | None] = []
        slugs = self.munis["slug"].to_numpy()
        for i, s, m in zip(ids.tolist(), source.tolist(), m_idx.tolist()):
            if s == "vk":
                out.append(f"https://vk.com/wall-{170000000 + m * 7919}_{i}")
            elif s == "ok":
                out.append(f"https://ok.ru/group/{54000000000 + m}/topic/{i}")
            elif s == "telegram":
                out.append(f"https://t.me/{slugs[m]}_gov/{i}")
            elif s == "instagram":
                out.append(f"https://www.instagram.com/p/C{i:09d}/")
            elif s == "facebook":
                out.append(f"https://www.facebook.com/groups/{slugs[m]}/posts/{i}")
            elif s == "pos":
                out.append(f"https://pos.gosuslugi.ru/appeals/{i}")
            else:
                out.append(None)
        return out

    def chunks(self) -> Iterator[Chunk]:
        for month in sc.month_starts(sc.CENTRE_START, self.sc.as_of_local_date):
            chunk = self.month(month)
            if chunk is not None:
                yield chunk
