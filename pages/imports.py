"""Загрузка: an analyst loads another system's export (CSV or XLSX) through a mapping file.

A check (a dry run) first shows what would be loaded and what not, and why; loading writes it all
in one transaction (see the ingest package). Every attempt is written to the audit log."""
import json

import streamlit as st

from dashboard import auth, fmt, importing
from dashboard.i18n import t
from dashboard.shell import context

ctx = context()
st.title(t("nav.import"))
if not ctx.viewer.may_import:
    st.error(t("auth.denied"))
    st.stop()
st.caption(t("import.intro"))

# Streamlit draws its file box's texts in English only («Drag and drop file here», «Browse files»,
# «Limit 100MB per file»): they are hidden and said in the app's language (the limit is in the help)
st.html(f"""<style>
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::before {{
  content: {json.dumps(t("import.dropzone"), ensure_ascii=False)}; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after {{
  content: {json.dumps(t("import.browse"), ensure_ascii=False)}; }}
</style>""")
upload = st.file_uploader(t("import.file"), type=list(importing.SUFFIXES), key="import_file", help=t("import.file.help"))
shipped = importing.shipped_mappings()
OWN = "__own__"
choice = st.selectbox(t("import.mapping"), [*shipped, OWN], key="import_mapping",
                      format_func=lambda k: t("import.mapping.own") if k == OWN else importing.mapping_label(k))
own = None
if choice == OWN:
    own = st.file_uploader(t("import.mapping.upload"), type=["toml"], key="import_mapping_file")
    st.caption(t("import.mapping.help"))
sheet = None
if upload is not None and upload.name.lower().endswith((".xlsx", ".xlsm")):
    cached = f"import_sheets_{upload.file_id}"  # the workbook is opened once, not on every rerun
    if cached not in st.session_state:
        st.session_state[cached] = importing.sheet_names(upload.getvalue())
    sheets = st.session_state[cached]
    if len(sheets) > 1:
        sheet = st.selectbox(t("import.sheet"), [None, *sheets], key="import_sheet", help=t("import.sheet.help"),
                             format_func=lambda name: t("import.sheet.default") if name is None else name)

row = st.container(horizontal=True, gap="small")
check = row.button(t("import.check"), key="import_check", icon=":material/fact_check:")
load = row.button(t("import.load"), key="import_load", type="primary", icon=":material/upload:")

# «Загрузить» writes exactly what the last check of the same file and mapping showed: its plan's
# digest goes with the load, which refuses when the database moved in between (ingest.plan)
this = (upload.file_id if upload is not None else None, choice, own.file_id if own is not None else None, sheet)
checked = st.session_state.get("import_checked")
checked = checked if checked and checked[0] == this else None

if check or load:
    st.session_state.pop("import_outcome", None)
    if upload is None:
        st.warning(t("import.need_file"))
    elif choice == OWN and own is None:
        st.warning(t("import.need_mapping"))
    else:
        bar = st.progress(0.0, text=t("import.running"))
        try:
            mapping = importing.read_mapping(own.getvalue() if choice == OWN else shipped[choice])
            outcome = importing.run(upload.getvalue(), upload.name, mapping, dry_run=check, sheet=sheet,
                                    progress=lambda f, label: bar.progress(min(max(f, 0.0), 1.0), text=t("import.running")),
                                    expect=None if check or checked is None else checked[1],
                                    confirm=bool(load and checked and st.session_state.get("import_confirm")))
        except importing.Refused as exc:
            bar.empty()
            st.error(f"{fmt.plain(exc)} {t('import.nothing_written')}", icon=":material/error:")
            auth.record("import_refused", upload.name, {"dry_run": bool(check), "reason": str(exc)})
        else:
            bar.empty()
            s = outcome.summary
            auth.record("import_check" if check else "import", upload.name,
                        {"mapping": own.name if choice == OWN else choice, "read": s.read, "inserted": s.inserted,
                         "updated": s.updated, "unchanged": s.unchanged, "rejected": s.rejected})
            if not check and (s.inserted or s.updated):
                st.cache_data.clear()  # every page reads the new figures
            st.session_state["import_outcome"] = (upload.name, bool(check), outcome)
            st.session_state.pop("import_confirm", None)
            if check and s.plan is not None:
                st.session_state["import_checked"] = (this, s.plan.digest())
            else:
                st.session_state.pop("import_checked", None)

done = st.session_state.get("import_outcome")
if done:
    name, dry, outcome = done
    s = outcome.summary
    counts = dict(read=fmt.number(s.read), inserted=fmt.number(s.inserted), updated=fmt.number(s.updated),
                  unchanged=fmt.number(s.unchanged), rejected=fmt.number(s.rejected), events=fmt.number(s.events),
                  seconds=fmt.number(s.seconds, 1), name=name)
    if dry:
        st.info(t("import.result.dry", **counts), icon=":material/fact_check:")
    else:
        st.success(t("import.result.done", **counts), icon=":material/task_alt:")
    if s.rejected:
        st.subheader(t("import.rejects.title"))
        st.caption(t("import.rejects.note", shown=fmt.number(len(outcome.rejects)), total=fmt.number(s.rejected)))
        st.dataframe(outcome.rejects, hide_index=True, key="import_rejects")
        st.download_button(t("import.rejects.download"), outcome.rejects_csv, outcome.rejects_name, "text/csv",
                           key="import_rejects_csv", icon=":material/download:")
    plan = s.plan
    if plan is not None:
        st.subheader(t("import.plan.title"))
        if plan.changed:
            st.markdown(fmt.plain(t("import.plan.summary", new=fmt.number(plan.new), changed=fmt.number(plan.changed),
                                    stored=fmt.number(plan.stored), share=importing.share_text(plan.share),
                                    unchanged=fmt.number(plan.unchanged))))
        else:
            st.markdown(fmt.plain(t("import.plan.none", new=fmt.number(plan.new))))
        if plan.fields:
            st.dataframe(importing.plan_table(plan), hide_index=True, key="import_plan")
        st.caption(t("import.plan.note"))
        if dry and plan.needs_confirmation and (st.session_state.get("import_checked") or (None,))[0] == this:
            st.warning(t("import.plan.confirm_needed", limit=importing.confirm_limit()),
                       icon=":material/warning:")
            st.checkbox(t("import.plan.confirm", changed=fmt.number(plan.changed), stored=fmt.number(plan.stored),
                          share=importing.share_text(plan.share)), key="import_confirm")
