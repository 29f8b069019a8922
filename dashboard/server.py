"""Пульс ЦУР's server: `streamlit run dashboard/server.py` (what `make run` does).

Streamlit serves dashboard/app.py behind dashboard/gate.py: the sign-in cookie's endpoints and the
checks on downloads, uploads and metrics. Started as `streamlit run dashboard/app.py` the pages
work, but a reload signs the user out and downloads are not guarded: use this file. Once it is up,
the first page after signing in is prepared in the background (dashboard.warm).
"""
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from dashboard import warm
from dashboard.gate import ROUTES, Gate


@asynccontextmanager
async def _lifespan(_app):
    warm.start()
    yield


app = st.App("app.py", routes=ROUTES, middleware=[Middleware(Gate)], lifespan=_lifespan)
