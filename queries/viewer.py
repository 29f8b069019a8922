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

    @property
    def sees_region_leagues(self) -> bool:
        """Region-wide league tables: not for one organization, whose scope would build them from
        its own cases alone (a league of territories out of one clinic's hundred cases)."""
        return self.role != "executor"

    @property
    def sees_press_release(self) -> bool:
        """The region's press release (the page «Для СМИ»): the press office and the minister; a
        head's or an executor's scope would make a region-wide text out of a part of it."""
        return self.role in ("analyst", "press")

    @property
    def may_import(self) -> bool:
        """Loading other systems' exports (the import page) is for the minister/analyst role."""
        return self.role == "analyst"


def _executor_scope(viewer: Viewer, alias: str, params: dict) -> str:
    params["v_exec"] = [int(x) for x in viewer.executors]
    return f"({alias}.organization_id in :v_exec or {alias}.escalated_to_id in :v_exec)"


@dataclass(frozen=True)
class Codes:
    """A bound parameter: the ids of the rows of `table` (municipalities or topics) whose code is
    in `codes`, or whose parent's is. queries.run.bind resolves it before the statement runs, so
    that the planner sees the ids themselves and estimates a filter from its statistics: an
    `any(array(select …))` or `in (select …)` it could not see through, and it walked every
    appeal of the period by date to find a small territory's or topic's."""
    table: str
    codes: tuple[str, ...]


def in_codes(column: str, table: str, param: str, params: dict, codes) -> str:
    """SQL: `column` is one of the ids of Codes(table, codes), bound as :param."""
    params[param] = Codes(table, tuple(codes))
    return f"{column} in :{param}"


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
    return in_codes(f"{alias}.municipality_id", "municipalities", "v_terr", params, viewer.territories), params
