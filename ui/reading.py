"""How the file is read, on the Data page: customers or order lines, and for a log its
column mapping, reference date and what became of every line.

Drawn before the dataset is loaded, so a choice that makes the file unreadable
(order lines read as customers) can be undone on the same page.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from segmentation import SegmentationError
from segmentation.data.orders import FIELD_LABELS, FIELDS, INPUT_KINDS, OrderLog

from . import cache, flow, state

# Above this many bytes reading, working out column meaning and preparing take over a
# second (about 1 s per 10 MB of text here, see benchmarks/bench_read.py), so the Data page
# shows each step as it runs; a small file is read before a status box could draw.
LARGE_FILE_BYTES = 5_000_000

KIND_LABELS = {"auto": "Decide from the content", "customers": "One row per customer",
               "transactions": "Order lines, totalled per customer"}


def show(fp: str, data: bytes, name: str) -> OrderLog | None:
    """Draw the reading choices and, for an order log, its line accounting; the log or None."""
    sheet = state.reading()[4]
    try:
        found = cache.lines(fp, data, name, sheet)
    except SegmentationError:
        found = None  # the dataset's own error says what is wrong with the file
    _sheet_choice(fp, data, name, found.sheet if found is not None else sheet)
    if found is None:
        return None
    try:
        raw = cache.raw_table(fp, data, name, state.reading())
    except SegmentationError:
        raw = None  # shown once, by the dataset below, with the way back
    log = raw.log if raw is not None else None
    # as found: the sheet chosen is no choice about order lines
    if log is None and found.log_reason is None and state.reading()[:3] == cache.AS_FOUND[:3]:
        with st.expander("Read the file as order lines instead"):
            _kind_choice(fp)
        return None

    st.subheader("Order log")
    if log is not None:
        why = raw.notes[0] if raw.notes and raw.notes[0] not in log.notes else None
        st.info(flow.md(why) if why else "Read as a log of order lines, as chosen below, so "
                "it is totalled per customer before segmenting.")
    left, right = st.columns(2)
    with left:
        _kind_choice(fp)
    with right:
        if log is not None:
            _reference_date(fp, log)
    _mapping(fp, found, log)
    if log is not None:
        _accounting(log)
    return log


def read_with_progress(fp: str, data: bytes, name: str) -> None:
    """Read a large file step by step under a status box that names each step.

    The steps fill the same caches the page then reads, so the page itself runs
    at once; a small file skips the box. A step that fails stops here and the
    page shows the engine's own sentence when it asks for the same result.
    """
    if len(data) <= LARGE_FILE_BYTES:
        return
    reading, roles = state.reading(), state.roles_key()
    steps = (("Reading the file", lambda: cache.lines(fp, data, name, reading[4])),
             ("Reading the customers", lambda: cache.raw_table(fp, data, name, reading)),
             ("Working out what each column means",
              lambda: cache.dataset(fp, data, name, roles, reading)),
             ("Preparing the variables for clustering",
              lambda: cache.features(fp, data, name, roles, state.prep_config(), reading)))
    with st.status(f"Reading {name} ({len(data) / 1e6:,.1f} MB)…", expanded=True) as box:
        bar = st.progress(0.0)
        for i, (label, step) in enumerate(steps):
            bar.progress(i / len(steps), text=f"{label}…")
            try:
                step()
            except SegmentationError:
                box.update(label=f"{label} failed: see below.", state="error", expanded=False)
                return
        bar.progress(1.0, text="Done")
        box.update(label=f"Read {name}: {len(data) / 1e6:,.1f} MB.", state="complete",
                   expanded=False)


def _sheet_choice(fp: str, data: bytes, name: str, current: str | None) -> None:
    """Which sheet of a workbook of several is read; by default the first holding a table."""
    try:
        sheets = cache.sheets(fp, data, name)
    except SegmentationError:
        return  # the dataset's own error says what is wrong with the file
    if len(sheets) < 2:
        return
    key = f"w.sheet.{fp[:12]}"
    if key not in st.session_state:
        st.session_state[key] = current if current in sheets else sheets[0]
    st.selectbox("Sheet", sheets, key=key,
                 on_change=lambda: state.set_sheet(st.session_state[key]),
                 help="The workbook has several sheets: the first one holding a table is read "
                      "unless you choose another.")


def _kind_choice(fp: str) -> None:
    key = f"w.input_kind.{fp[:12]}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state[state.INPUT_KIND]
    st.radio("Read the file as", INPUT_KINDS, key=key, format_func=KIND_LABELS.get,
             on_change=lambda: state.set_input_kind(st.session_state[key]),
             help="A file that repeats its customer ids, with dates and amounts, is read as "
                  "order lines; choose here when that guess is wrong.")


def _reference_date(fp: str, log: OrderLog) -> None:
    key = f"w.reference_date.{fp[:12]}"
    if key not in st.session_state:
        chosen = st.session_state[state.REFERENCE_DATE] or log.reference_date
        st.session_state[key] = dt.date.fromisoformat(chosen)
    st.date_input("Count recency to", key=key, format="YYYY-MM-DD",
                  on_change=lambda: state.set_reference_date(st.session_state[key]),
                  help="Days since the last order are counted to this day; by default the "
                       "day after the log's last order. Lines after it are left out.")


def _mapping(fp: str, found: cache.Lines, log: OrderLog | None) -> None:
    used = log.mapping if log is not None else {}
    chosen = st.session_state[state.LOG_MAP]
    with st.expander("Which column is which", expanded=log is None):
        st.caption("Found by the column names; correct a field if it was misread. A blank "
                   "field is found by name again.")
        options = ["", *found.columns]
        cols = st.columns(5)
        for i, field in enumerate(FIELDS):
            key = f"w.log_map.{fp[:12]}.{field}"
            if key not in st.session_state:
                current = chosen.get(field) or used.get(field) or found.detected.get(field, "")
                st.session_state[key] = current if current in options else ""

            def _set(field=field, key=key):
                column = st.session_state[key]
                state.set_log_field(field, column if column != found.detected.get(field)
                                    else None)

            cols[i % 5].selectbox(FIELD_LABELS[field].capitalize(), options, key=key,
                                  on_change=_set,
                                  format_func=lambda c: c if c else "(not in the file)")


def _accounting(log: OrderLog) -> None:
    st.markdown("**What became of every line**")
    a, b, c, d = st.columns(4)
    a.metric("Lines read", f"{log.lines_read:,}")
    b.metric("Lines aggregated", f"{log.lines_aggregated:,}")
    c.metric("Customers", f"{len(log.customers):,}")
    d.metric("Return lines netted", f"{log.return_lines:,}")
    left, right = st.columns(2)
    with left:
        if log.dropped:
            st.dataframe(pd.DataFrame({"reason": list(log.dropped),
                                       "lines": list(log.dropped.values())}),
                         hide_index=True, column_config={"reason": "Left out because",
                                                         "lines": "Lines"})
        else:
            st.caption("No line was left out.")
    with right:
        st.caption(f"Net revenue on lines without a customer id: "
                   f"{log.missing_id_revenue:,.2f}. These lines belong to no customer, so no "
                   "segment counts them.")
        for note in log.notes:
            st.caption(flow.md(note))
    st.markdown("**Customers totalled from the lines** (first rows)")
    st.dataframe(_shown(log.customers.head(20)), hide_index=True,
                 column_config={c: log.labels.get(c, c) for c in log.customers.columns})
    with st.expander("The aggregation, as run (SQL)"):
        st.code(log.sql, language="sql")


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as short text and missing cells blank (a customer with one order has no
    days between orders), so the preview never reads "None"."""
    def text(column: pd.Series) -> pd.Series:
        if column.dtype.kind in "biuf":
            return column.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}".rstrip("0")
                              .rstrip("."))
        return column.astype(object).map(lambda v: "" if pd.isna(v) else str(v))

    return frame.apply(text)
