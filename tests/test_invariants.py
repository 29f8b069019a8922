"""Every invariant of data-model.md holds on generated data (plain SQL in the test)."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

OPEN = "('new', 'assigned', 'in_progress')"


def scalar(engine, sql: str) -> int:
    with engine.connect() as c:
        return c.execute(text(sql)).scalar_one()


@pytest.fixture(params=["small_sqlite", "small_postgres", "default_sqlite", "imported_sqlite"])
def generated(request):
    """The small fixed database on both backends, the default scenario, and an imported copy."""
    return request.getfixturevalue(request.param)


def test_there_is_data(generated):
    assert scalar(generated, "select count(*) from appeals") > 1000
    assert scalar(generated, "select count(*) from appeal_events") > scalar(generated, "select count(*) from appeals")


def test_times_not_before_received(generated):
    assert scalar(generated, """select count(*) from appeals where first_response_at < received_at
        or closed_at < received_at or escalated_at < received_at""") == 0


def test_closed_at_set_exactly_when_status_closed(generated):
    assert scalar(generated, f"""select count(*) from appeals where
        (closed_at is null and status not in {OPEN}) or (closed_at is not null and status in {OPEN})""") == 0


def test_first_response_event_at_first_response_at(generated):
    assert scalar(generated, """
        select count(*) from appeals a
        left join (select appeal_id, min(at) as first_at, count(*) as n from appeal_events
                   where kind = 'response' group by appeal_id) r on r.appeal_id = a.id
        where (a.first_response_at is null and r.appeal_id is not null)
           or (a.first_response_at is not null and (r.first_at is null or r.first_at <> a.first_response_at))""") == 0


def test_last_closed_event_at_closed_at(generated):
    assert scalar(generated, """
        select count(*) from appeals a
        left join (select appeal_id, max(at) as last_at from appeal_events where kind = 'closed' group by appeal_id) c
          on c.appeal_id = a.id
        where a.closed_at is not null and (c.last_at is null or c.last_at <> a.closed_at)""") == 0
    # a reopened case that is open again has its last closing before its last reopening
    assert scalar(generated, f"""
        select count(*) from appeals a
        join (select appeal_id, max(at) as last_at from appeal_events where kind = 'closed' group by appeal_id) c
          on c.appeal_id = a.id
        left join (select appeal_id, max(at) as at from appeal_events where kind = 'reopened' group by appeal_id) r
          on r.appeal_id = a.id
        where a.status in {OPEN} and (r.at is null or r.at < c.last_at)""") == 0


def test_one_escalated_event_per_escalation(generated):
    assert scalar(generated, """
        select count(*) from appeals a
        left join (select appeal_id, count(*) as n, min(at) as at, min(organization_id) as org
                   from appeal_events where kind = 'escalated' group by appeal_id) e on e.appeal_id = a.id
        where (a.escalated_at is null and e.n is not null)
           or (a.escalated_at is not null and (e.n <> 1 or e.at <> a.escalated_at or e.org <> a.escalated_to_id))""") == 0


def test_reopened_count_matches_reopened_events(generated):
    assert scalar(generated, """
        select count(*) from appeals a
        left join (select appeal_id, count(*) as n from appeal_events where kind = 'reopened' group by appeal_id) r
          on r.appeal_id = a.id
        where a.reopened_count <> coalesce(r.n, 0)""") == 0


def test_feedback_matches_last_feedback_event(generated):
    with generated.connect() as c:
        df = pd.read_sql(text("""
            select a.id, a.citizen_feedback, e.kind from appeals a
            left join appeal_events e on e.appeal_id = a.id and e.kind in ('citizen_confirmed', 'citizen_disputed')
            order by a.id, e.at"""), c)
    last = df.groupby("id").last()
    expected = last["kind"].map({"citizen_confirmed": "confirmed", "citizen_disputed": "disputed"})
    assert (last["citizen_feedback"].fillna("-") == expected.fillna("-")).all()


def test_every_appeal_starts_with_received_event(generated):
    assert scalar(generated, """
        select count(*) from appeals a left join appeal_events e on e.appeal_id = a.id and e.kind = 'received'
        where e.at is null or e.at <> a.received_at""") == 0
    assert scalar(generated, """
        select count(*) from appeal_events e join appeals a on a.id = e.appeal_id where e.at < a.received_at""") == 0


def test_city_district_appeals_roll_up_to_the_city(generated):
    """A district's appeals count for its city: the city row equals city-level plus districts."""
    with generated.connect() as c:
        city = c.execute(text("""select count(*) from appeals a join municipalities m on m.id = a.municipality_id
                                 where m.code = '50701000' or m.parent_id = (select id from municipalities where code = '50701000')""")).scalar_one()
        parts = c.execute(text("""select count(*) from appeals a join municipalities m on m.id = a.municipality_id
                                  where m.kind = 'city_district'""")).scalar_one() + \
            c.execute(text("""select count(*) from appeals a join municipalities m on m.id = a.municipality_id
                              where m.code = '50701000'""")).scalar_one()
    assert city == parts
    assert scalar(generated, "select count(*) from municipalities where kind = 'city_district' and parent_id is null") == 0


def test_reference_data_complete(generated):
    assert scalar(generated, "select count(*) from municipalities") == 45
    assert scalar(generated, "select count(*) from municipalities where parent_id is null") == 35
    assert scalar(generated, "select count(*) from municipalities where kind = 'city_district'") == 10
    assert scalar(generated, "select count(*) from municipalities where population <= 0") == 0
    assert scalar(generated, "select count(*) from organizations where kind = 'clinic' and parent_id <> "
                             "(select id from organizations where code = 'minzdrav')") == 0
    assert scalar(generated, "select count(*) from topics t where parent_id is not null and response_norm_hours not in (4, 8)") == 0
    assert scalar(generated, "select count(*) from topics where is_urgent and response_norm_hours <> 4") == 0


def test_no_meta_platforms_after_ban(generated):
    assert scalar(generated, """select count(*) from appeals where source in ('instagram', 'facebook')
                                and received_at >= '2022-03-20T17:00:00'""") == 0


def reference_work_hours(start: dt.datetime, end: dt.datetime, ru) -> float:
    """Working hours between two UTC moments, day by day: Mon–Fri 9–18 Novosibirsk time by the RU calendar."""
    local = dt.timedelta(hours=7)
    start, end = start + local, end + local
    total, day = 0.0, start.date()
    while day <= end.date():
        if ru.is_working_day(day):
            lo = max(start, dt.datetime.combine(day, dt.time(9), start.tzinfo))
            hi = min(end, dt.datetime.combine(day, dt.time(18), start.tzinfo))
            total += max((hi - lo).total_seconds(), 0) / 3600
        day += dt.timedelta(days=1)
    return total


def test_due_and_work_hours_follow_the_calendar(generated):
    """response_due_at is the first moment the topic's norm of working hours has passed; stored work hours agree.

    The expectation walks the days with the `holidays` production calendar, not the vectorised WorkCalendar.
    """
    import holidays
    ru = holidays.country_holidays("RU", years=range(2020, 2028))
    with generated.connect() as c:
        df = pd.read_sql(text("""select a.received_at, a.response_due_at, a.first_response_at, a.first_response_work_hours,
                                        t.response_norm_hours from appeals a join topics t on t.id = a.topic_id
                                 order by a.id limit 400"""), c)
    for col in ("received_at", "response_due_at", "first_response_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    second = dt.timedelta(seconds=1)
    for r in df.itertuples():
        rec, due = r.received_at.to_pydatetime(), r.response_due_at.to_pydatetime()
        assert reference_work_hours(rec, due, ru) == pytest.approx(r.response_norm_hours, abs=1e-6)
        assert reference_work_hours(rec, due - second, ru) < r.response_norm_hours
        if pd.notna(r.first_response_at):
            got = reference_work_hours(rec, r.first_response_at.to_pydatetime(), ru)
            assert got == pytest.approx(r.first_response_work_hours, abs=1e-3)
