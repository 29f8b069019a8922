"""The HTTP side of sign-in and access, in front of Streamlit's own routes (dashboard/server.py).

- POST /pulse/session exchanges a sign-in's single-use ticket for the session cookie
  (HttpOnly, SameSite=Lax, Secure behind HTTPS); POST /pulse/signout forgets it.
- Downloads (/media/…) are served to a live session only, and each is written to the audit log:
  an export's URL is worthless without the session that made it, or after it ends.
- Uploads (/_stcore/upload_file/…) are accepted from a live session of a role that may import,
  up to server.maxUploadSize: an unsigned tab cannot make the server hold a file.
- /_stcore/metrics answers the analyst role only.

No Streamlit page code here: this runs in the server's event loop, the database calls in its
thread pool.
"""
from __future__ import annotations

import functools
import logging
import threading

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from sqlalchemy.exc import OperationalError

from queries import audit, sessions
from queries.config import resolve_database, resolve_read_database
from queries.db import make_engine
from queries.viewer import Viewer

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _engine():
    return make_engine(resolve_database().url, create_dirs=False)


@functools.lru_cache(maxsize=1)
def _standby_engine():
    """READ_DATABASE_URL's engine, or None when the app reads where it writes."""
    url = resolve_read_database().url
    return None if url == resolve_database().url else make_engine(url, create_dirs=False)


def _viewer_of(token: str | None) -> Viewer | None:
    try:
        with _engine().connect() as conn:  # read only: a download never waits for a writer
            return sessions.token_viewer(conn, token)
    except OperationalError:
        if _standby_engine() is None:
            raise
        with _standby_engine().connect() as conn:  # the primary away: the replicated sessions
            return sessions.token_viewer(conn, token)


def _audit(viewer: Viewer, action: str, target: str) -> None:
    try:
        with _engine().begin() as conn:
            audit.record(conn, viewer.username, viewer.role, action, target)
    except Exception:  # the audit must not break a download; the failure is logged
        log.exception("audit write failed")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _base() -> str:
    """The server's base URL path ("" or "/prefix")."""
    from streamlit import config
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def gate_path(name: str) -> str:
    """The URL path of one of the gate's endpoints (`session`, `signout`), under the base path."""
    return f"{_base()}/pulse/{name}"


async def session(request: Request) -> Response:
    form = await request.form()
    ticket = str(form.get("ticket", ""))[:200]

    def run():
        with _engine().begin() as conn:
            return sessions.exchange(conn, ticket) if ticket else None
    found = await run_in_threadpool(run)
    if found is None:
        return PlainTextResponse("invalid or used ticket", status_code=403)
    token, lifetime = found
    response = Response(status_code=204)
    response.set_cookie(sessions.COOKIE, token, max_age=max(int(lifetime.total_seconds()), 0), path=_base() or "/",
                        httponly=True, samesite="lax", secure=_secure(request))
    return response


async def signout(request: Request) -> Response:
    token = request.cookies.get(sessions.COOKIE)
    if token:
        def run():
            with _engine().begin() as conn:
                found = sessions.resume(conn, token)
                if found is not None:
                    sessions.revoke(conn, found[0].id)
        await run_in_threadpool(run)
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path=_base() or "/", httponly=True, samesite="lax", secure=_secure(request))
    return response


# Plotly's geo maps ask for a world outline (its topojson, from its CDN) even when no layer of it is
# drawn; the oblast's map draws only its own boundaries, so an empty outline is served from here
# and the map works offline (dashboard/geomap.py, ui.PLOTLY_CONFIG's topojsonURL).
EMPTY_WORLD = {"type": "Topology", "arcs": [], "objects": {
    layer: {"type": "GeometryCollection", "geometries": []}
    for layer in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")}}


async def world_outline(request: Request) -> Response:
    return JSONResponse(EMPTY_WORLD, headers={"Cache-Control": "public, max-age=86400"})


ROUTES = [Route("/pulse/session", session, methods=["POST"]), Route("/pulse/signout", signout, methods=["POST"]),
          Route("/pulse/geo/{name}", world_outline, methods=["GET"])]


def upload_limit_bytes() -> int:
    from streamlit import config
    return int(config.get_option("server.maxUploadSize")) * 1024 * 1024


class Gate:
    """ASGI middleware: the checks above, before Streamlit's routes see the request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"][len(_base()):] if scope["path"].startswith(_base()) else scope["path"]
        guarded = path.startswith("/media/") or path.startswith("/_stcore/upload_file") or path == "/_stcore/metrics"
        if not guarded:
            return await self.app(scope, receive, send)
        request = Request(scope)
        try:
            viewer = await run_in_threadpool(_viewer_of, request.cookies.get(sessions.COOKIE))
        except Exception:  # the database is away: refuse, and say it is for now
            log.exception("session check failed")
            return await PlainTextResponse("try again", status_code=503)(scope, receive, send)
        refusal = self._refusal(path, request, viewer)
        if refusal is not None:
            return await refusal(scope, receive, send)
        if path.startswith("/media/") and request.method == "GET":
            # written beside the download, not before it: a file never waits for the audit's write
            # lock (on SQLite the page's own audit row of the same click may hold it)
            threading.Thread(target=_audit, args=(viewer, "download", path.rsplit("/", 1)[-1]), daemon=True).start()
        return await self.app(scope, receive, send)

    @staticmethod
    def _refusal(path: str, request: Request, viewer: Viewer | None) -> Response | None:
        if viewer is None:
            return PlainTextResponse("sign in first", status_code=403)
        if path == "/_stcore/metrics" and viewer.role != "analyst":
            return PlainTextResponse("not for this role", status_code=403)
        if path.startswith("/_stcore/upload_file") and request.method in ("PUT", "POST"):
            if not viewer.may_import:
                return PlainTextResponse("uploads are for the import role", status_code=403)
            length = request.headers.get("content-length")
            if length is None or not length.isdecimal():
                return PlainTextResponse("a length is required", status_code=411)
            if int(length) > upload_limit_bytes():
                return PlainTextResponse("file too large", status_code=413)
        return None
