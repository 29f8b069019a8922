"""What the app knows about the database it reads: whether it is a hot standby, and how far its
replay is behind (docs/deploy.md). On SQLite, or on a primary, there is no lag."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.db import is_sqlite

LAG_SAID = dt.timedelta(minutes=1)  # a standby further behind than this is said on every page


@dataclass(frozen=True)
class ReadState:
    standby: bool
    replayed_at: dt.datetime | None  # the last replayed transaction's commit time (a standby's)

    def behind(self, now: dt.datetime) -> dt.timedelta | None:
        """How far the data read lag behind `now`, when that is worth saying; else None."""
        if not self.standby or self.replayed_at is None:
            return None
        lag = now - self.replayed_at
        return lag if lag > LAG_SAID else None


def read_state(conn: Connection) -> ReadState:
    if is_sqlite(conn):
        return ReadState(False, None)
    # caught up = it has replayed all it received: an idle primary sends nothing, and the last
    # replayed commit's time then grows old without the standby being behind
    standby, replayed, caught_up = conn.execute(text(
        "select pg_is_in_recovery(), pg_last_xact_replay_timestamp(), "
        "coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), true)")).one()
    return ReadState(bool(standby), replayed if standby and not caught_up else None)
