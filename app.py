"""Пульс ЦУР — the Streamlit entry point: `streamlit run app.py`."""
from dashboard.shell import main

main()
