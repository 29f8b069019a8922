"""Журнал: who opened which case card, who exported what, sign-ins (the analyst role only)."""
import json

import pandas as pd
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.i18n import has, t
from dashboard.shell import context, page_header
from queries import audit
from queries.viewer import ROLES, AccessDenied

ctx = context()
page_header(ctx, "audit")
try:
    with data.engine().connect() as conn:
        log = audit.entries(conn, ctx.viewer)
except AccessDenied:
    st.error(t("auth.denied"))
    st.stop()


def _role(code: str) -> str:
    return t(f"role.{code}") if code in ROLES else "—"


def _action(code: str) -> str:
    return t(f"audit.do.{code}") if has(f"audit.do.{code}") else code


def _details(raw) -> str:
    """The event's details as words: «Фильтры: с 2021-02-01 по …; Строк: 1 410», not JSON."""
    if not isinstance(raw, str) or not raw:
        return "—"
    try:
        values = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(values, dict):
        return str(values)

    def word(v) -> str:
        if isinstance(v, bool):
            return t("audit.yes") if v else t("audit.no")
        if v is None:
            return "—"
        if isinstance(v, dict):
            return ", ".join(f"{label(k)} {x}" for k, x in v.items())
        if isinstance(v, (int, float)):
            return fmt.number(v)
        return str(v)
    return "; ".join(f"{label(k)}: {word(v)}" for k, v in values.items())


def label(key: str) -> str:
    return t(f"audit.key.{key}") if has(f"audit.key.{key}") else key


shown = pd.DataFrame({
    t("audit.at"): [fmt.local(x, with_seconds=True) for x in log["at"]], t("audit.user"): log["username"],
    t("audit.role"): [_role(r) for r in log["role"]], t("audit.action"): [_action(a) for a in log["action"]],
    t("audit.target"): [x if isinstance(x, str) and x else "—" for x in log["target"]],
    t("audit.details"): [_details(d) for d in log["details"]],
})
ui.table(shown, None, "audit_log", t("audit.title"), ctx, "audit_table", select=False)
