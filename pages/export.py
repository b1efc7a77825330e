"""Export: the files that take the segmentation to the CRM and to the marketing team."""

import streamlit as st

from segmentation import SegmentationError
from segmentation.export.assignments import xlsx_refusal
from segmentation.export.bundle import bundle_bytes
from segmentation.history.store import history_for_report, record_run, run_record
from ui import cache, flow, state

st.title("Export")
st.caption("Every file uses the persona names and strategies as edited on the Personas page. "
           "Files are built when you click. Spreadsheet cells that could run as formulas are "
           "neutralised, and everything you typed is escaped in the HTML files.")
result = flow.require_result()
personas = flow.personas(result)
# Fitted only when asked on the Personas page; read here, during the run (see the report).
# Cached there; fitted again only when the cache has let it go, which takes a while.
if state.lifetime_estimated(result.config):
    with st.spinner("Fitting the lifetime models (expected orders and value)…"):
        lifetime = cache.lifetime(*state.data(), result.config)
else:
    lifetime = None


def _strategy():
    # Imported on use: building spreadsheets is only needed when a file is asked for.
    from segmentation.export import strategy

    return strategy


def _assignments():
    from segmentation.export.assignments import customer_assignments

    return customer_assignments(result, personas, lifetime=lifetime)


st.subheader("For the CRM or email platform")
st.markdown("Customer id, segment, persona, distance to the segment centre, the customer's "
            "silhouette and the two variables that most pull them to their segment rather than "
            "the next nearest. Every customer of the file appears; those not segmented carry "
            "the reason instead of a segment."
            + (" Each customer's lifetime figures (expected orders and value in the next 12 "
               "months, probability still active) are added as estimated on the Personas page."
               if lifetime is not None else ""))
a, b = st.columns(2)
a.download_button("Assignments (CSV)", data=lambda: _strategy().assignments_csv(_assignments()),
                  file_name="assignments.csv", mime="text/csv", icon=":material/download:")
if (refusal := xlsx_refusal(result.dataset.rows_read)) is None:
    b.download_button("Assignments (Excel)",
                      data=lambda: _strategy().assignments_xlsx(_assignments()),
                      file_name="assignments.xlsx", icon=":material/download:",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
else:
    b.caption(refusal)

st.subheader("For the marketing team")
st.markdown("The persona strategy sheet: a summary row per persona (size, share of customers, "
            "the averages of the clustering, money and outcome columns the file has, top "
            "traits, why each name was given, offer, channels, tone, budget note) and a page "
            "per persona with the rules that find it as a filter. The HTML version prints to "
            "PDF from any browser.")
a, b = st.columns(2)
a.download_button("Strategy sheet (Excel)",
                  data=lambda: _strategy().strategy_sheet_xlsx(result, personas),
                  file_name="persona_strategies.xlsx", icon=":material/download:",
                  mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
b.download_button("Strategy sheet (printable HTML)",
                  data=lambda: _strategy().strategy_sheet_html(result, personas).encode("utf-8"),
                  file_name="persona_strategies.html", mime="text/html",
                  icon=":material/download:")


# Read session state here, during the run: a download callable runs later, in the
# server's download handler, where session state cannot be reached.
bootstrap = flow.known_bootstrap(result)
history_path = (st.session_state[state.HISTORY_PATH] if st.session_state[state.HISTORY_ON]
                else None)


def _report() -> bytes:
    from report.html import build_report

    try:  # each persona's trend when earlier runs are recorded in the history
        history = history_for_report(history_path, result)
    except SegmentationError:
        history = None  # a damaged history file is reported on the History page
    return build_report(result, personas, bootstrap=bootstrap, lifetime=lifetime,
                        history=history).encode("utf-8")


st.subheader("The full report")
st.markdown("One interactive HTML file that opens without a network: the data and its "
            "cleaning, the variables and scaling, the K panel and why this K, the profile "
            "table, every Explore chart, the stability checks and the personas with their "
            "strategies.")
st.download_button("Full report (HTML)", data=_report, file_name="segmentation_report.html",
                   mime="text/html", icon=":material/download:")
st.caption("Each file is built when its button is clicked; the button spins until the file "
           "is ready, which takes a while for the report and on large files.")

st.subheader("The workshop file")
st.markdown("Settings, variable choice, K, seed, persona names and strategies and the data's "
            "fingerprint in one versioned JSON file. Open it on the Data page: with the same "
            "data it restores exactly this segmentation; with other data it says so and "
            "matches the personas by profile.")
st.download_button("Workshop file (JSON)", data=lambda: bundle_bytes(result, personas),
                   file_name="bundle.json", mime="application/json",
                   icon=":material/download:")

st.subheader("The run history")
st.markdown("Save this segmentation to the run history, where the History page follows each "
            "persona's size, share, averages and stability from run to run and flags drift. "
            "The history is one file any number of studio sessions and command-line runs can "
            "write at once.")
st.text_input("History file", **state.bind("w.history.path", state.HISTORY_PATH),
              help="'python -m segmentation run' keeps its history beside its --out folder; "
                   "give that file here to follow command-line and studio runs together.")
st.toggle("Record runs in the history", **state.bind("w.history.on", state.HISTORY_ON))
if st.button("Save this run to the history", icon=":material/history:",
             disabled=not st.session_state[state.HISTORY_ON]):
    boot = flow.known_bootstrap(result)
    jaccard = None if boot is None else dict(zip(boot.per_segment["segment"],
                                                 boot.per_segment["mean_jaccard"], strict=True))
    try:
        run_id = record_run(st.session_state[state.HISTORY_PATH],
                            run_record(result, personas, jaccard, source="app"))
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
    else:
        st.success(f"Saved as run {run_id}: see the History page.")
