"""Sign-in: OIDC through st.login when [auth] is configured, else the local user store.

The viewer lives in the server-side session; the client cannot set it. A local sign-in also
starts a database session (queries.sessions) whose token the browser keeps in an HttpOnly
cookie, so that a reload, a bookmark or a new tab stays signed in; every run checks the session
and the user's current status and role.
"""
from __future__ import annotations

import json
import os

import streamlit as st

from dashboard import data
from dashboard.gate import gate_path
from dashboard.i18n import t
from queries import audit, sessions, users
from queries.viewer import Viewer

SESSION_KEY = "viewer"
SESSION_ROW = "pulse_session"


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


def client_address() -> str | None:
    """The browser's address: the proxy's X-Forwarded-For when PULSE_TRUSTED_PROXY=1 (behind nginx),
    else the connection's."""
    try:
        if os.environ.get("PULSE_TRUSTED_PROXY") == "1":
            forwarded = st.context.headers.get("X-Forwarded-For")
            if isinstance(forwarded, str) and forwarded:
                return forwarded.split(",")[0].strip()[:100]
        address = st.context.ip_address
    except Exception:  # no request behind this run (a test harness)
        return None
    return address if isinstance(address, str) else None


def _hand_over(ticket: str) -> None:
    """Let the browser exchange the sign-in's ticket for the HttpOnly session cookie (gate.py):
    a same-origin POST from the page; the token itself never reaches JavaScript."""
    path = gate_path("session")
    st.html(f"""<script>
fetch({json.dumps(path)}, {{method: "POST", credentials: "same-origin",
  headers: {{"Content-Type": "application/x-www-form-urlencoded"}}, body: "ticket=" + {json.dumps(ticket)}}});
</script>""", unsafe_allow_javascript=True)


def _forget_cookie() -> None:
    st.html(f"""<script>fetch({json.dumps(gate_path("signout"))}, {{method: "POST", credentials: "same-origin"}});</script>""",
            unsafe_allow_javascript=True)


def _login_form() -> None:
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    notice = st.session_state.pop("_signed_out_reason", None)
    if notice:
        st.info(t(notice))
    if st.session_state.pop("_forget_cookie", False):
        _forget_cookie()
    with st.form("login"):
        name = st.text_input(t("auth.username"), key="login_user")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.sign_in"))
    if not submitted:
        return
    name = name.strip()[:100]
    client = client_address()
    if data.read_url() != data.database_url() and not data.primary_reachable(data.database_url()):
        st.error(t("replica.sign_in_later"))  # a new session is a write: it waits for the primary
        return
    with data.engine().begin() as conn:
        refused = sessions.locked(conn, name, client)
        # a locked name costs the same hashing as a wrong password: no timing tells them apart
        viewer = users.spend(password) if refused else users.authenticate(conn, name, password)
        if viewer is None:
            sessions.failed(conn, name or "?", client)
            audit.record(conn, name or "?", "-", "login_failed", None, {"client": client, "throttled": refused})
        else:
            sessions.succeeded(conn, name)
            session, ticket = sessions.start(conn, viewer.username, client)
            audit.record(conn, viewer.username, viewer.role, "login", None, {"client": client})
    if viewer is None:
        st.error(t("auth.throttled" if refused else "auth.failed"))
        return
    st.session_state[SESSION_KEY] = viewer
    st.session_state[SESSION_ROW] = session
    st.session_state["_hand_over"] = ticket
    st.rerun()


def _signed_out(reason: str) -> None:
    for key in (SESSION_KEY, SESSION_ROW, "_audited_cases"):
        st.session_state.pop(key, None)
    st.session_state["_signed_out_reason"] = reason
    st.session_state["_forget_cookie"] = True


def _checked(viewer: Viewer) -> Viewer | None:
    """The viewer as the database says it is now: the session live, the user enabled, the role and
    scope current (one indexed read per run)."""
    session = st.session_state.get(SESSION_ROW)

    def check(conn):
        if not isinstance(session, sessions.Session):
            return sessions.user_now(conn, viewer.username)
        return sessions.resume_session(conn, session)
    found, on_primary = _primary_or_standby(check)
    if not isinstance(session, sessions.Session):
        return found
    if found is None:
        return None
    now_session, now_viewer = found
    if now_session.stale and on_primary:
        with data.engine().begin() as conn:
            sessions.touch(conn, now_session)
    st.session_state[SESSION_ROW] = now_session
    return now_viewer


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
        now = _checked(viewer)
        if now is None:
            _signed_out("auth.ended")
            record_as(viewer, "session_refused")
        else:
            if now != viewer:
                st.session_state[SESSION_KEY] = now
            ticket = st.session_state.pop("_hand_over", None)
            if ticket:
                _hand_over(ticket)
            return now
    else:
        token = _cookie()
        if token:
            found, on_primary = _primary_or_standby(lambda conn: sessions.resume(conn, token))
            if found is not None:
                if on_primary:
                    with data.engine().begin() as conn:
                        sessions.touch(conn, found[0])
                st.session_state[SESSION_ROW], st.session_state[SESSION_KEY] = found
                return found[1]
    _login_form()
    st.stop()


def _primary_or_standby(read):
    """`read(conn)` on the primary; when the primary is away and a standby serves the reads
    (READ_DATABASE_URL), on the standby, whose sessions and users are the primary's as replicated:
    a signed-in user stays signed in, read-only, and the pages say so. (result, on the primary)."""
    try:
        with data.engine().connect() as conn:
            result = read(conn)
    except data.DB_ERRORS:
        if data.read_url() == data.database_url():
            raise
        st.session_state["_primary_away"] = True
        with data.read_engine().connect() as conn:
            return read(conn), False
    st.session_state.pop("_primary_away", None)
    return result, True


def primary_away() -> bool:
    """This run's checks found the primary away (the pages run read-only on the standby)."""
    return bool(st.session_state.get("_primary_away"))


def _cookie() -> str | None:
    try:
        token = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # no request behind this run
        return None
    return token if isinstance(token, str) else None


def record_as(viewer: Viewer, action: str, target: str | None = None, details: dict | None = None) -> None:
    _audit(viewer.username, viewer.role, action, target, details)


def sign_out() -> None:
    viewer = st.session_state.get(SESSION_KEY)
    session = st.session_state.get(SESSION_ROW)
    if isinstance(session, sessions.Session):
        with data.engine().begin() as conn:
            sessions.revoke(conn, session.id)
    _signed_out("auth.signed_out")
    if viewer is not None:
        _audit(viewer.username, viewer.role, "logout")
    if oidc_configured():
        st.logout()
