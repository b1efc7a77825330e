"""Variables & K: what to cluster on, how to scale it, and how many segments."""

import streamlit as st

import charts
from segmentation import SegmentationError
from segmentation.cluster.kmeans import N_SPLITS, REPLICATES, quality_warnings
from segmentation.describe.explore import silhouette_frame
from segmentation.describe.sampling import sampled_fit_note
from segmentation.prepare.features import MISSING_POLICIES, OUTLIER_POLICIES, SCALING_LABELS
from segmentation.prepare.variables import GROUPS, default_features
from ui import cache, drivers_section, flow, methods_section, state, strata_section

st.title("Variables & K")
dataset = flow.require_dataset()
fp, data, name = state.data()
variables = cache.variables(fp, data, name, state.roles_key(), state.prep_config().labels,
                            state.reading())
defaults = default_features(variables)
chosen = list(st.session_state[state.FEATURES] or defaults)
groups = {g: [n for n, v in variables.items() if v.group == g] for g in GROUPS}


def _on_features_change():
    picked = [n for g, names in groups.items() if names
              for n in st.session_state.get(f"w.features.{g}", [])]
    state.set_features(n for n in variables if n in picked)


st.subheader("Clustering variables")
st.caption("Pick the behaviour that should tell segments apart. The standard set is "
           "preselected; ids, constants and free text are never offered.")
cols = st.columns(3)
for i, (group, names) in enumerate((g, n) for g, n in groups.items() if n):
    key = f"w.features.{group}"
    if key not in st.session_state:
        st.session_state[key] = [n for n in names if n in chosen]
    cols[i % 3].multiselect(group, names, key=key, on_change=_on_features_change,
                            format_func=lambda n: variables[n].label)
b1, b2 = st.columns([1, 3])


def _restore_standard_set():
    state.reset_variables()
    for key in [k for k in st.session_state if k.startswith(("w.features.", "w.weight."))]:
        del st.session_state[key]  # widgets reseed from the restored choices


b1.button("Restore the standard set", on_click=_restore_standard_set)

with st.expander("Preparation: scaling, implausible values, missing values, weights"):
    c1, c2, c3 = st.columns(3)
    c1.radio("Scaling", list(SCALING_LABELS), format_func=SCALING_LABELS.get,
             **state.bind("w.scaling", state.SCALING))
    c2.radio("Implausible values", OUTLIER_POLICIES,
             format_func={"clip": "Clip to plausible range", "keep": "Keep",
                          "exclude": "Exclude those customers"}.get,
             **state.bind("w.outliers", state.OUTLIERS))
    c3.radio("Missing values", MISSING_POLICIES,
             format_func={"impute": "Fill in (median / most common)",
                          "drop": "Drop those customers"}.get,
             **state.bind("w.missing", state.MISSING))
    st.caption("Weights: 2 counts a variable's differences twice, 0.5 half as much.")
    weights = dict(st.session_state[state.WEIGHTS])
    wcols = st.columns(4)
    for i, feature in enumerate(f for f in chosen if f in variables):
        def _set_weight(f=feature):
            st.session_state[state.WEIGHTS] = {**st.session_state[state.WEIGHTS],
                                               f: st.session_state[f"w.weight.{f}"]}
        key = f"w.weight.{feature}"
        if key not in st.session_state:
            st.session_state[key] = float(weights.get(feature, 1.0))
        wcols[i % 4].number_input(variables[feature].label, min_value=0.1, max_value=5.0,
                                  step=0.5, key=key, on_change=_set_weight)

strata_section.strata_control(dataset)
config = state.run_config()
sweep_args = (fp, data, name, config.roles, config.prep, tuple(config.k_values),
              config.random_state, config.n_init)
try:
    fm = cache.features(fp, data, name, config.roles, config.prep, cache.reading_of(config))
    # The sweep's own figures first: the elbow and the quality by K are drawn from them
    # while the split-half check, the slower half of the work, runs after.
    swept = cache.sweep_fits(*sweep_args, cache.reading_of(config))
except SegmentationError as exc:
    flow.stop_with(str(exc))
for warning in fm.report.warnings:
    st.warning(flow.md(warning))
for suggestion in fm.report.correlated:
    w1, w2 = st.columns([4, 1])
    w1.warning(suggestion.message)
    w2.button(f"Combine into '{suggestion.label}'", key=f"w.combine.{suggestion.name}",
              on_click=lambda s=suggestion: st.session_state.update(
                  {state.COMPOSITES: (*st.session_state[state.COMPOSITES], (s.a, s.b))}))
st.caption(f"Clustering on {len(fm.features)} variables: "
           + ", ".join(fm.variables[f].label for f in fm.features) + ".")


def _checked_sweep():
    try:
        return cache.sweep(*sweep_args, config.stability, cache.reading_of(config))
    except SegmentationError as exc:
        flow.stop_with(str(exc))


@st.fragment
def k_panel():
    if config.strata is not None:
        return strata_section.k_panel()
    st.subheader("How many segments?")
    recommendation, elbow, quality = st.empty(), st.empty(), st.empty()

    drawn = set()

    def draw(metrics, chosen_k):
        # Full width each: the 2x2 quality panel's subplot titles collide in half a page.
        # The sweep's charts mark the chosen K: keyed on what they show (the quality panel
        # gains the split-half agreement once it is measured). What is on the page already
        # is not sent again.
        marked = state.run_key(config, chosen_k)
        figures = {
            ("elbow", marked): (elbow, lambda: charts.elbow_chart(metrics, swept.knee_k,
                                                                  chosen_k)),
            ("k_metrics", marked, "stability" in metrics): (
                quality, lambda: charts.k_metrics_chart(metrics, chosen_k))}
        for key, (slot, build) in figures.items():
            if key not in drawn:
                slot.plotly_chart(cache.figure(key, build), width="stretch")
                drawn.add(key)

    if config.stability and not cache.sweep_made(
            fp, config.roles, config.prep, tuple(config.k_values), config.random_state,
            config.n_init, reading=cache.reading_of(config)):
        # The check is to come: the sweep's own figures are drawn meanwhile, marking the K
        # chosen or else the one the sweep alone would recommend.
        recommendation.info("Checking that each K's segments replicate on random halves of "
                            f"the customers ({N_SPLITS} splits)…")
        draw(swept.summary().table, st.session_state[state.K_CHOICE] or swept.recommended_k)
    sweep = _checked_sweep()
    sweep_summary = sweep.summary()
    metrics = sweep_summary.table
    recommendation.info(f"**Recommended: K = {sweep.recommended_k}.** "
                        f"{flow.md(sweep_summary.verdict)}")
    chosen_k = st.session_state[state.K_CHOICE] or sweep.recommended_k
    draw(metrics, chosen_k)
    if (note := sampled_fit_note(sweep, fm.X.shape[0])) is not None:
        st.caption(note)
    ks = metrics["k"].tolist()

    def _on_k():
        picked = st.session_state["w.k"]
        st.session_state[state.K_CHOICE] = None if picked == sweep.recommended_k else picked

    st.session_state["w.k"] = chosen_k if chosen_k in ks else sweep.recommended_k
    st.segmented_control("Number of segments (K)", ks, key="w.k", on_change=_on_k,
                         format_func=lambda k: f"{k} ★" if k == sweep.recommended_k else str(k))
    result = flow.require_result()
    seg = result.segmentation
    names = flow.names(result)
    for warning in quality_warnings(seg.silhouette, seg.shares, seg.labels.size):
        st.warning(flow.md(warning))
    st.plotly_chart(cache.figure(("silhouette", flow.shown(result, names)),
                                 lambda: charts.silhouette_diagram(
                                     silhouette_frame(seg, names), charts.persona_colors(names),
                                     seg.silhouette)), width="stretch")
    st.dataframe(metrics.rename(columns={
        "k": "K", "inertia": "Inertia (WCSS)", "silhouette": "Silhouette",
        "calinski_harabasz": "Calinski–Harabasz", "davies_bouldin": "Davies–Bouldin",
        "min_share": "Smallest segment", "stability": "Split-half agreement (median)",
        "stability_min": "Lowest split", "stability_max": "Highest split"}).style.format(
        {"Inertia (WCSS)": "{:,.0f}", "Silhouette": "{:.3f}", "Calinski–Harabasz": "{:,.0f}",
         "Davies–Bouldin": "{:.2f}", "Smallest segment": "{:.0%}",
         "Split-half agreement (median)": "{:.2f}", "Lowest split": "{:.2f}",
         "Highest split": "{:.2f}"}), hide_index=True)
    if "stability" in metrics:
        st.caption(f"Split-half agreement: the median over {N_SPLITS} random splits of the "
                   "customers into halves, with the lowest and highest split beside it. A K "
                   f"whose median is under {REPLICATES:g} is not recommended.")
    drivers_section.show(variables, dataset)  # in the panel: it follows K


k_panel()
methods_section.compare_panel(config, _checked_sweep())
methods_section.splits_panel(config)
