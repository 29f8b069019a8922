"""Журнал: who opened which case card, who exported what, sign-ins (the analyst role only)."""
import pandas as pd
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.i18n import t
from dashboard.shell import context, page_header
from queries import audit
from queries.viewer import AccessDenied

ctx = context()
page_header(ctx, "audit")
try:
    with data.engine().connect() as conn:
        log = audit.entries(conn, ctx.viewer)
except AccessDenied:
    st.error(t("auth.denied"))
    st.stop()
shown = pd.DataFrame({
    t("audit.at"): [fmt.local(x, with_seconds=True) for x in log["at"]], t("audit.user"): log["username"],
    t("audit.role"): log["role"], t("audit.action"): log["action"], t("audit.target"): log["target"],
    t("audit.details"): log["details"],
})
ui.table(shown, None, "audit_log", t("audit.title"), ctx, "audit_table", select=False)
