"""Пульс ЦУР's server: `streamlit run dashboard/server.py` (what `make run` does).

Streamlit serves dashboard/app.py behind dashboard/gate.py: the sign-in cookie's endpoints and the
checks on downloads, uploads and metrics. Started as `streamlit run dashboard/app.py` the pages
work, but a reload signs the user out and downloads are not guarded: use this file.
"""
import streamlit as st
from starlette.middleware import Middleware

from dashboard.gate import ROUTES, Gate

app = st.App("app.py", routes=ROUTES, middleware=[Middleware(Gate)])
