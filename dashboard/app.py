"""Пульс ЦУР — the Streamlit script of every page (served by dashboard/server.py).

It lives here, not beside `pages/`, so that Streamlit never treats `pages/` as an old-style
multi-page folder and runs a page without the shell (st.navigation owns the routing)."""
from dashboard.shell import main

main()
