"""Sign-in: OIDC through st.login when [auth] is configured, else the local user store.

The viewer lives in the server-side session; the client cannot set it.
"""
from __future__ import annotations

import time

import streamlit as st

from dashboard import data
from dashboard.i18n import t
from queries import audit, users
from queries.viewer import Viewer

SESSION_KEY = "viewer"
MAX_FAILURES = 5


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _claims_viewer() -> Viewer | None:
    """A viewer from the identity's claims, by the [pulse_auth] mapping in secrets.toml."""
    cfg = st.secrets.get("pulse_auth", {})
    claims = st.user.to_dict()
    raw = claims.get(cfg.get("role_claim", "roles"))
    values = raw if isinstance(raw, list) else [raw]
    mapping = cfg.get("roles", {})
    role = next((mapping[v] for v in values if v in mapping), None)
    if role is None:
        return None
    territory = claims.get(cfg.get("territory_claim", "territory"))
    executor_code = claims.get(cfg.get("executor_claim", "executor"))
    executors: tuple[int, ...] = ()
    if executor_code:
        orgs = data.executors(data.database_url())
        match = orgs[orgs["code"] == executor_code]
        executors = (int(match.iloc[0]["id"]),) if len(match) else ()
    try:
        return Viewer(str(claims.get("email") or claims.get("sub")), role, (territory,) if territory else (), executors)
    except ValueError:
        return None


def _audit(viewer_name: str, role: str, action: str, target: str | None = None, details: dict | None = None) -> None:
    try:
        with data.engine().begin() as conn:
            audit.record(conn, viewer_name, role, action, target, details)
    except Exception:  # the audit trail must not take the page down; the failure is logged by the server
        import logging
        logging.getLogger(__name__).exception("audit write failed")


def record(action: str, target: str | None = None, details: dict | None = None) -> None:
    viewer = st.session_state.get(SESSION_KEY)
    if viewer is not None:
        _audit(viewer.username, viewer.role, action, target, details)


def _login_form() -> None:
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    failures = st.session_state.get("login_failures", 0)
    with st.form("login"):
        name = st.text_input(t("auth.username"), key="login_user")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.sign_in"))
    if submitted:
        if failures >= MAX_FAILURES:
            time.sleep(2)  # slow down guessing within a session
        with data.engine().connect() as conn:
            viewer = users.authenticate(conn, name.strip(), password)
        if viewer is None:
            st.session_state["login_failures"] = failures + 1
            _audit(name.strip()[:100] or "?", "-", "login_failed")
            st.error(t("auth.failed"))
        else:
            st.session_state[SESSION_KEY] = viewer
            st.session_state["login_failures"] = 0
            _audit(viewer.username, viewer.role, "login")
            st.rerun()


def require_viewer() -> Viewer:
    """The signed-in viewer; otherwise the sign-in screen is shown and the run stops."""
    if oidc_configured():
        if not st.user.is_logged_in:
            st.title(t("app.title"))
            st.button(t("auth.sign_in_oidc"), on_click=st.login)
            st.stop()
        viewer = _claims_viewer()
        if viewer is None:
            st.error(t("auth.no_role"))
            st.button(t("auth.sign_out"), on_click=st.logout)
            st.stop()
        st.session_state[SESSION_KEY] = viewer
        return viewer
    viewer = st.session_state.get(SESSION_KEY)
    if isinstance(viewer, Viewer):
        return viewer
    _login_form()
    st.stop()


def sign_out() -> None:
    viewer = st.session_state.pop(SESSION_KEY, None)
    if viewer is not None:
        _audit(viewer.username, viewer.role, "logout")
    if oidc_configured():
        st.logout()
