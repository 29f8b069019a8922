"""Обращения: the cases behind the filters (search, sort, pages) and the case card (?id=)."""
import math

import pandas as pd
import streamlit as st

from dashboard import auth, data, fmt, ui
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.urlstate import to_params
from queries.cases import EXPORT_CAP, KEYSET, PAGE_SIZE, SORTS, count_cap

ctx = context()
f = ctx.filters


def _close_card() -> None:
    st.query_params.pop("id", None)


def show_card(appeal_id: int) -> None:
    card, events = data.case(ctx.url, ctx.viewer, appeal_id)
    # a button, not a link to this same page: the link kept ?id=, and a changed filter reopened the card
    st.button(t("cases.back"), key="case_back", on_click=_close_card)
    seen = st.session_state.setdefault("_audited_cases", set())
    first_time = (ctx.viewer.username, appeal_id) not in seen  # per user: a tab may change hands
    seen.add((ctx.viewer.username, appeal_id))
    if card is None:  # absent, or outside the viewer's scope: the same answer, audited apart
        st.warning(t("cases.not_found", id=appeal_id))
        if first_time:
            auth.record("open_case_refused" if data.appeal_exists(ctx.url, appeal_id) else "open_case_missing",
                        str(appeal_id))
        return
    if first_time:
        auth.record("open_case", str(appeal_id))
    st.title(t("cases.card", id=int(card["id"])))
    st.caption(t("asof", when=fmt.local(ctx.now)))
    status = t(f"status.{card['status']}")
    fields = [
        (t("card.external_id"), card["external_id"]),
        (t("card.source"), t(f"source.{card['source']}")),
        (t("card.author"), card["author_ref"] if isinstance(card["author_ref"], str) else "—"),
        (t("card.received"), fmt.local(card["received_at"])),
        (t("card.territory"), card["territory"]),
        (t("card.topic"), card["topic"]),
        (t("card.executor"), card["executor"]),
        (t("card.status"), status),
        (t("card.due"), fmt.local(card["response_due_at"])),
        (t("card.first_response"), fmt.local(card["first_response_at"]) if card.get("response_measured", 1)
         else t("card.not_measured")),
        (t("card.fr_hours"), fmt.hours(card["first_response_work_hours"])),
        (t("card.closed"), fmt.local(card["closed_at"])),
        (t("card.escalated"), f"{fmt.local(card['escalated_at'])} → {card['escalated_to']}" if card["escalated_to"] else "—"),
        (t("card.feedback"), t(f"feedback.{card['citizen_feedback']}") if card["citizen_feedback"] else "—"),
        (t("card.rating"), str(int(card["citizen_rating"])) if pd.notna(card["citizen_rating"]) else "—"),
        (t("card.reopened"), fmt.number(card["reopened_count"])),
        (t("card.reach"), fmt.number(card["reach"]) if pd.notna(card["reach"]) else "—"),
    ]
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"> {fmt.plain(card['text'])}" if isinstance(card["text"], str) else "> —")
        if isinstance(card["source_url"], str) and card["source_url"]:
            st.link_button(t("cases.source_link"), card["source_url"], icon=":material/open_in_new:")
        st.subheader(t("cases.timeline"))
        for ev in events.itertuples():
            who = f" — {fmt.plain(ev.organization)}" if isinstance(ev.organization, str) else ""
            note = f"  \n_{fmt.plain(ev.note)}_" if isinstance(ev.note, str) else ""
            st.markdown(f"**{fmt.local(ev.at)}** · {t(f'event.{ev.kind}')}{who}{note}")
    with right:
        st.dataframe(pd.DataFrame(fields, columns=[t("col.name"), ""]), hide_index=True,
                     height=(len(fields) + 1) * 35 + 3)  # every field visible, no inner scroll


raw_id = st.query_params.get("id")
if raw_id is not None:
    if raw_id.isdecimal():
        show_card(int(raw_id))  # (an id past the database's range is "not found", as any other)
        st.stop()
    st.warning(t("filters.invalid", param="id", value=fmt.plain(raw_id)))

page_header(ctx, "cases")
c1, c2 = st.columns([3, 2])
query = c1.text_input(t("cases.search"), key="case_q", disabled=False,
                      help=t("cases.search.press") if ctx.viewer.masks_personal_data else None)
sort = c2.selectbox(t("cases.sort"), list(SORTS), key="case_sort", format_func=lambda s: t(f"cases.sort.{s}"))
escalated_only = False
if ctx.viewer.role == "executor":
    escalated_only = st.toggle(t("cases.escalated_to_us"), key="case_esc", help=t("cases.escalated_to_us.help"))
# keyset pagination: a stack of cursors (the last row of each page shown), reset when the view changes
view_key = (ctx.filters, query, sort, escalated_only)
if st.session_state.get("case_view") != view_key:
    st.session_state["case_view"] = view_key
    st.session_state["case_cursors"] = []
cursors = st.session_state["case_cursors"]
page = len(cursors) + 1
after = cursors[-1] if cursors and sort in KEYSET else None
rows, total = data.case_page(ctx.url, ctx.viewer, f, ctx.now, query or "", sort, page, after, escalated_only)
if query and query.strip() and st.session_state.get("_audited_search") != (ctx.viewer.username, query, f):
    st.session_state["_audited_search"] = (ctx.viewer.username, query, f)
    auth.record("search", query.strip()[:200], {"filters": to_params(f, ctx.lang), "found": int(total)})
pages = max(1, math.ceil(total / PAGE_SIZE))
cap = count_cap(query, ctx.viewer)
shown_total = t("cases.more_than", n=fmt.number(cap)) if total > cap else fmt.number(total)
st.caption(f"{t('cases.found', n=shown_total)} · {t('cases.page')} {page} / "
           f"{t('cases.more_than', n=fmt.number(pages - 1)) if total > cap else pages}")
outside = data.outside_case_scope(ctx.url, ctx.viewer, f.territories)
if outside:  # a head's filter names another territory: its cases are not theirs to read
    st.info(t("cases.not_in_scope", names=fmt.plain(", ".join(ctx.territory_name(c) for c in outside))))
if total == 0:
    if not outside:
        st.info(t("empty.period"))
    st.stop()
def to_us(df: pd.DataFrame) -> list[bool]:
    """Which rows are cases escalated to the viewer's organization (an executor's, marked in the list)."""
    mine = set(ctx.viewer.executors)
    return [pd.notna(x) and int(x) in mine for x in df["escalated_to_id"]]


def listed(df: pd.DataFrame) -> pd.DataFrame:
    # status and text, what a reader scans the list for, right after the id and the time; the
    # places and bodies follow (they scroll sideways at 1280 px)
    return pd.DataFrame({
        t("col.id"): df["id"],
        t("col.received_at"): [fmt.local(x) for x in df["received_at"]],
        t("col.status"): [("⚠ " if o else "") + t(f"status.{s}") + (f" · {t('cases.escalated_mark')}" if e else "")
                          for s, o, e in zip(df["status"], df["overdue"], to_us(df))],
        t("col.text"): df["text"],
        t("col.territory"): df["territory"], t("col.topic"): df["topic"], t("col.executor"): df["executor"],
        t("col.source"): [t(f"source.{s}") for s in df["source"]],
    })


def exported() -> pd.DataFrame:
    """Every case the filters and the search select (not the page shown), with their deadlines."""
    df = data.case_export(ctx.url, ctx.viewer, f, ctx.now, query or "", sort, escalated_only)
    out = listed(df)
    out.insert(2, t("col.due"), [fmt.local(x) for x in df["response_due_at"]])
    out.insert(3, t("card.first_response"), [fmt.local(x) for x in df["first_response_at"]])
    out.insert(4, t("card.closed"), [fmt.local(x) for x in df["closed_at"]])
    return out


shown = listed(rows)
exact_total = total <= cap
if exact_total and total > EXPORT_CAP:
    st.caption(t("export.capped", cap=fmt.number(EXPORT_CAP), total=fmt.number(total)))
elif not exact_total:
    st.caption(t("export.capped", cap=fmt.number(EXPORT_CAP), total=t("cases.more_than", n=fmt.number(cap))))
CASE_COLUMNS = {t("col.id"): st.column_config.Column(width=70, pinned=True),
                t("col.received_at"): st.column_config.Column(width=125),
                t("col.status"): st.column_config.Column(width=140), t("col.text"): st.column_config.Column(width=360)}
row = ui.table(shown, exported, "cases", t("cases.title"), ctx, "cases_table", height=600, column_config=CASE_COLUMNS,
               details={"search": query.strip()} if query and query.strip() else None,
               export_rows=min(total, EXPORT_CAP) if exact_total else None)
b1, b2, _ = st.columns([1, 1, 4])
if b1.button(t("cases.first"), disabled=page == 1, key="case_first"):
    st.session_state["case_cursors"] = []
    st.rerun()
if b2.button(t("cases.next"), disabled=page * PAGE_SIZE >= total, key="case_next"):
    last = rows.iloc[-1]
    cursors.append((last["received_at"].isoformat(), int(last["id"])))
    st.rerun()
if row is not None:
    st.query_params["id"] = str(int(rows.iloc[row]["id"]))
    st.rerun()
