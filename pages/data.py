"""Data: load a file, check how every column was read and what was cleaned."""

import pandas as pd
import streamlit as st

from segmentation import SegmentationError
from segmentation.data.dataset import column_table
from segmentation.data.roles import ROLE_LABELS, Role
from segmentation.export.bundle import load_bundle
from ui import cache, flow, reading, state

st.title("Data")


def _on_upload():
    upload = st.session_state.get("w.upload")
    if upload is not None:
        state.use_upload(upload.getvalue(), upload.name)


left, right = st.columns([3, 1])
limit = st.get_option("server.maxUploadSize")
left.file_uploader("Upload a customer file (CSV, TSV, Excel or Parquet)",
                   type=["csv", "tsv", "txt", "xlsx", "parquet"], key="w.upload",
                   on_change=_on_upload,
                   help=f"Files up to {limit} MB (set in .streamlit/config.toml); a larger "
                        "file is refused by the uploader with a message.")
right.write("")
right.button("Use the bundled sample", on_click=state.use_sample,
             disabled=st.session_state[state.DATA_SOURCE] == "sample")



def _on_bundle():
    upload = st.session_state.get("w.bundle")
    if upload is None:
        return
    try:
        bundle = load_bundle(upload.getvalue())
    except SegmentationError as exc:
        st.session_state[state.BUNDLE_NOTE] = ("error", str(exc))
        return
    state.apply_bundle(bundle)
    if bundle.fingerprint == st.session_state[state.DATA_FINGERPRINT]:
        note = ("success", f"Restored the segmentation saved on {bundle.created[:10]}: same "
                           "data, same settings, so the same segments and persona names.")
    else:
        note = ("info", f"This segmentation was saved for {bundle.data_name}, not the data "
                        "loaded now: its settings are applied here and its persona names go to "
                        "the segments whose profiles match. To assign these customers to the "
                        "saved segments instead, use the Compare runs page.")
    st.session_state[state.BUNDLE_NOTE] = note


with st.expander("Open a saved segmentation (bundle.json)"):
    st.file_uploader("Bundle saved from the Personas page or by the command line",
                     type=["json"], key="w.bundle", on_change=_on_bundle)
    if st.session_state[state.BUNDLE_NOTE]:
        kind, message = st.session_state[state.BUNDLE_NOTE]
        {"success": st.success, "info": st.info, "error": st.error}[kind](message)

fp, data, name = state.data()
reading.read_with_progress(fp, data, name)
log = reading.show(fp, data, name)  # before the dataset: a wrong choice must stay undoable
dataset = flow.require_dataset()
raw = cache.raw_table(fp, data, name, state.reading())
dropped = sum(dataset.dropped.values())
a, b, c, d = st.columns(4)
a.metric("Customers read" if log is not None else "Rows read", f"{dataset.rows_read:,}")
b.metric("Customers kept", f"{dataset.n_customers:,}")
c.metric("Columns", len(raw.frame.columns))
d.metric("Rows dropped", f"{dropped:,}")
if raw.file_format == "text":
    delim = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(raw.delimiter, "none")
    st.caption(f"Read as {raw.encoding} text, {delim}-separated, decimal mark "
               f"'{raw.decimal}'.")
for note in dataset.notes:
    if log is None or note not in raw.notes:  # the log's notes are shown with the log
        st.info(flow.md(note))

st.subheader("Column roles")
st.caption("What each column holds (its kind), how it is used (its role) and why it was read "
           "that way. Correct a role if it was misread; the app recomputes. Ids, constant "
           "columns and free text are never clustered on.")
role_options = [ROLE_LABELS[r] for r in Role]
label_to_role = {ROLE_LABELS[r]: r.value for r in Role}
columns = list(dataset.roles)
roles_table = column_table(dataset)
roles_table.insert(3, "label", [st.session_state[state.LABELS].get(c, "") for c in columns])


def _apply_roles():
    # Edits arrive by row position; the table's rows are the columns in order.
    edited = state.pop_edits("roles")
    overrides = dict(st.session_state[state.ROLES])
    labels = dict(st.session_state[state.LABELS])
    for row, change in edited.items():
        if "role" in change and change["role"] in label_to_role:
            overrides[columns[row]] = label_to_role[change["role"]]
        if "label" in change:
            labels[columns[row]] = change["label"]
    if overrides != st.session_state[state.ROLES]:
        state.set_roles(overrides)
    state.set_labels(labels)


if state.has_edits("roles"):  # edits set without the callback
    _apply_roles()
    st.rerun()
st.data_editor(
    roles_table, key=state.editor_key("roles"), on_change=_apply_roles, hide_index=True,
    disabled=["column", "kind", "because", "first_values", "missing"], width="stretch",
    column_config={"column": "Column", "kind": "Kind",
                   "role": st.column_config.SelectboxColumn("Role", options=role_options,
                                                            required=True),
                   "label": st.column_config.TextColumn(
                       "Display name", max_chars=60,
                       help="How the column is named on charts and in persona names; leave "
                            "blank for the automatic name."),
                   "because": st.column_config.TextColumn("Why", width="large"),
                   "first_values": "First values", "missing": "Missing"},
)
if st.session_state[state.ROLES]:
    st.button("Restore the detected roles", on_click=state.set_roles, args=({},))

st.subheader("What was cleaned")
try:
    report = cache.features(fp, data, name, state.roles_key(), state.prep_config(),
                            state.reading()).report
except SegmentationError as exc:
    flow.stop_with(str(exc))
policy = {"clip": "clipped to the nearest plausible value", "keep": "kept as they are",
          "exclude": "customers excluded"}[report.outlier_policy]
left, right = st.columns(2)
with left:
    st.markdown("**Missing values**")
    if report.missing:
        st.dataframe(pd.DataFrame({
            "column": list(report.missing),
            "missing": list(report.missing.values()),
            "imputed": [report.imputed.get(c, 0) for c in report.missing],
        }), hide_index=True)
        st.caption("Numbers are filled with the column's median, categories with the most "
                   "common value (change the policy on the Variables & K page).")
    else:
        st.caption("No missing values in the columns used.")
    st.markdown(f"**Implausible values** ({policy})")
    if report.outliers:
        st.dataframe(pd.DataFrame({"variable": list(report.outliers),
                                   "flagged": list(report.outliers.values())}),
                     hide_index=True)
    else:
        st.caption("Nothing implausible found.")
with right:
    st.markdown("**Rows not segmented**")
    if report.dropped:
        st.dataframe(pd.DataFrame({"reason": list(report.dropped),
                                   "rows": list(report.dropped.values())}), hide_index=True)
    else:
        st.caption("Every row is a customer in the segmentation.")
    if dataset.malformed_lines:
        lines = ", ".join(map(str, dataset.malformed_lines[:20]))
        more = " …" if len(dataset.malformed_lines) > 20 else ""
        st.caption(f"Malformed lines skipped: {lines}{more}")
    if dataset.duplicate_ids:
        st.caption("Duplicate ids (first kept): "
                   + ", ".join(flow.md(i) for i in dataset.duplicate_ids[:10]))
    st.markdown("**Columns excluded from clustering**")
    if dataset.excluded_columns:
        st.dataframe(pd.DataFrame({"column": list(dataset.excluded_columns),
                                   "why": list(dataset.excluded_columns.values())}),
                     hide_index=True)
    else:
        st.caption("No column is excluded.")

if log is None:
    with st.expander("Preview the first rows"):
        st.dataframe(raw.frame.head(50), hide_index=True)
