import streamlit as st
from dashboard.shell import context, page_header
ctx = context()
page_header(ctx, "methodology")
