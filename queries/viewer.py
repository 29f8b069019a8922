"""Who is looking, and the rows they may see. Every query takes a Viewer; the scope is SQL.

Roles: analyst (the minister and analysts: everything); press (every aggregate; cases without
personal data); head (a municipal head: every aggregate, cases of their territory only);
executor (an organization: its own cases and figures, including cases escalated to it).
"""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("analyst", "press", "head", "executor")


class AccessDenied(Exception):
    """The viewer may not read this."""


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    territories: tuple[str, ...] = ()   # municipality codes of a head (a city includes its districts)
    executors: tuple[int, ...] = ()     # organization ids of an executor

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "head" and not self.territories:
            raise ValueError("a head needs a territory")
        if self.role == "executor" and not self.executors:
            raise ValueError("an executor needs an organization")

    @property
    def masks_personal_data(self) -> bool:
        return self.role == "press"

    @property
    def sees_audit(self) -> bool:
        return self.role == "analyst"


def _executor_scope(viewer: Viewer, alias: str, params: dict) -> str:
    params["v_exec"] = [int(x) for x in viewer.executors]
    return f"({alias}.organization_id in :v_exec or {alias}.escalated_to_id in :v_exec)"


def in_codes(column: str, table: str, param: str, pg: bool) -> str:
    """SQL: `column` is the id of a row of `table` (municipalities or topics) whose code is in the
    list :param, or of one of their children. On PostgreSQL as `= any(array(…))`: the ids are
    computed once and the condition seeks an index, where `in (select …)` became a hash join
    that read every row of the period."""
    ids = f"select id from {table} where code in :{param} or parent_id in (select id from {table} where code in :{param})"
    return f"{column} = any(array({ids}))" if pg else f"{column} in ({ids})"


def scope(viewer: Viewer, purpose: str, alias: str = "a", pg: bool = False) -> tuple[str, dict]:
    """SQL restricting appeals (table alias `alias`) to what the viewer may read for `purpose`.

    purpose: "aggregate" (counts, shares, times, league tables) or "cases" (rows, cards, texts).
    """
    if not isinstance(viewer, Viewer):
        raise AccessDenied("no viewer")
    params: dict = {}
    if viewer.role == "executor":
        return _executor_scope(viewer, alias, params), params
    if purpose == "aggregate" or viewer.role in ("analyst", "press"):
        return "1=1", params
    if purpose != "cases":
        raise ValueError(f"unknown purpose {purpose}")
    params["v_terr"] = list(viewer.territories)
    return in_codes(f"{alias}.municipality_id", "municipalities", "v_terr", pg), params
