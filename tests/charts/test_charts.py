"""Chart builders draw exactly the numbers explore.py returns, in one colour per persona."""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import charts
from segmentation.cluster.kmeans import REPLICATES, SMALL_SEGMENT_SHARE, WEAK_SILHOUETTE
from segmentation.describe import explore

TRICKY = "<b>x</b> & co"
TRICKY_SHOWN = "&lt;b&gt;x&lt;/b&gt; &amp; co"


def shown(name: str) -> str:
    """A persona name as the charts display it (the sample's names contain "&")."""
    return html.escape(name, quote=False)


def in_segment_order(names: dict[int, str]) -> list[str]:
    return [shown(names[s]) for s in sorted(names)]


@pytest.fixture(scope="module")
def result(sample_result):
    return sample_result


@pytest.fixture(scope="module")
def names(result):
    return {p.segment: p.name for p in result.personas}


@pytest.fixture(scope="module")
def colors(names):
    return charts.persona_colors(names)


def build_all(result, names: dict[int, str]) -> dict[str, go.Figure]:
    """Every chart of the studio, from the engine's own frames for these persona names."""
    fm, seg, prof, sweep = result.features, result.segmentation, result.profiles, result.sweep
    colors = charts.persona_colors(names)
    pca, explained = explore.pca_map(fm, seg, names)
    return {
        "elbow": charts.elbow_chart(sweep.metrics, sweep.knee_k, result.chosen_k),
        "k_metrics": charts.k_metrics_chart(sweep.metrics, result.chosen_k),
        "silhouette": charts.silhouette_diagram(explore.silhouette_frame(seg, names), colors,
                                                seg.silhouette),
        "spend": charts.spend_ranking_chart(explore.segment_value(prof, names), colors),
        "box": charts.box_chart(explore.spread(fm, seg, names, "Income"), colors, "Income"),
        "correlation": charts.correlation_heatmap(explore.spend_correlation(fm, seg, 0),
                                                  f"Spend correlations: {names[0]}"),
        "channels": charts.channel_mix_chart(explore.channel_mix(prof, names), colors),
        "channels_100": charts.channel_mix_chart(explore.channel_mix(prof, names), colors,
                                                 normalized=True),
        "profile": charts.profile_heatmap(explore.profile_z(prof, names)),
        "pca": charts.pca_chart(pca, colors, explained),
        "distribution": charts.distribution_chart(
            explore.customer_values(fm, seg, names, "total_spend"), colors, "Total spend"),
    }


@pytest.fixture(scope="module")
def figures(result, names):
    return build_all(result, names)


def persona_colours_drawn(fig: go.Figure) -> dict[str, set[str]]:
    """Every colour each displayed persona label is drawn in, across the figure's traces."""
    seen: dict[str, set[str]] = {}
    for trace in fig.data:
        color = getattr(getattr(trace, "marker", None), "color", None)
        if trace.type == "bar" and trace.orientation == "h" and not isinstance(color, str):
            # The ranked chart colours each bar (one per persona) within one trace.
            for label, c in zip(trace.y, color, strict=True):
                seen.setdefault(label, set()).add(c)
        elif isinstance(color, str) and trace.name:
            seen.setdefault(trace.name, set()).add(color)
        elif getattr(trace, "fill", None) not in (None, "none") and trace.name:
            # A filled outline is seen in its fill and its edge.
            seen.setdefault(trace.name, set()).update({trace.fillcolor, trace.line.color})
    return seen


def visible_text(fig: go.Figure) -> list[str]:
    """Trace names, category labels and titles: every place a persona name can be shown."""
    texts = [fig.layout.title.text or ""]
    for trace in fig.data:
        texts.append(trace.name or "")
        for axis in ("x", "y"):
            values = getattr(trace, axis, None)
            if values is not None and len(values) and isinstance(values[0], str):
                texts.extend(values)
    for annotation in fig.layout.annotations:
        texts.append(annotation.text or "")
    return texts


# --- colours ---


def test_palette_is_colour_blind_safe_and_has_ten_distinct_hex_colours():
    assert len(set(charts.PALETTE)) >= 10
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in charts.PALETTE)
    assert [pc.label_rgb(pc.hex_to_rgb(c)) for c in charts.PALETTE] == pc.qualitative.Safe


def test_persona_colours_follow_segment_number_and_wrap(names):
    many = {s: f"Persona {s}" for s in range(len(charts.PALETTE) + 2)}
    colors = charts.persona_colors(many)
    assert colors["Persona 0"] == charts.PALETTE[0]
    assert colors["Persona 3"] == charts.PALETTE[3]
    assert colors[f"Persona {len(charts.PALETTE)}"] == charts.PALETTE[0]
    assert colors[f"Persona {len(charts.PALETTE) + 1}"] == charts.PALETTE[1]
    # Insertion order of the dict does not matter, only the segment number.
    shuffled = dict(reversed(list(names.items())))
    assert charts.persona_colors(shuffled) == charts.persona_colors(names)


def test_renaming_a_persona_keeps_its_colour(names, colors):
    renamed = {**names, 1: "Weekend Gourmets"}
    new = charts.persona_colors(renamed)
    assert new["Weekend Gourmets"] == colors[names[1]]
    assert new[names[0]] == colors[names[0]]


def test_a_persona_has_the_same_colour_in_every_chart(figures, names, colors):
    expected = {shown(n): colors[n] for n in names.values()}
    charts_with_personas = 0
    for key, fig in figures.items():
        drawn = {label: c for label, c in persona_colours_drawn(fig).items() if label in expected}
        if key in {"elbow", "k_metrics", "correlation", "profile", "channels_100"}:
            assert not drawn, key  # these charts colour by metric, channel or value
            continue
        charts_with_personas += 1
        assert set(drawn) == set(expected), key
        for label, found in drawn.items():
            assert found == {expected[label]}, (key, label, found)
    assert charts_with_personas == 6


def test_renamed_persona_keeps_its_colour_in_every_chart(result, names, colors):
    renamed = {**names, 1: "Weekend Gourmets"}
    for key, fig in build_all(result, renamed).items():
        drawn = persona_colours_drawn(fig)
        if "Weekend Gourmets" in drawn:
            assert drawn["Weekend Gourmets"] == {colors[names[1]]}, key
        assert shown(names[1]) not in drawn, key


def test_a_persona_missing_from_the_colour_map_gets_its_segment_colour(result, names):
    frame = explore.spread(result.features, result.segmentation, names, "Income")
    fig = charts.box_chart(frame, {}, "Income")
    boxes = [t for t in fig.data if t.type == "box"]
    assert [t.marker.color for t in boxes] == [charts.PALETTE[s] for s in frame["segment"]]


# --- escaping and house style ---


@given(st.text())
def test_plain_escapes_markup_and_round_trips(text):
    shown = charts._plain(text)
    assert "<" not in shown and ">" not in shown
    assert html.unescape(shown) == text


def test_a_persona_named_like_markup_is_shown_escaped_everywhere(result, names):
    tricky = {**names, 0: TRICKY}
    figs = build_all(result, tricky)
    for key, fig in figs.items():
        texts = visible_text(fig)
        assert not any(TRICKY in t for t in texts), key
        if key not in {"elbow", "k_metrics"}:  # the K sweep shows no persona
            assert any(TRICKY_SHOWN in t for t in texts), key
    # Hover labels of the express charts carry the escaped name as data.
    pca = figs["pca"]
    assert TRICKY_SHOWN in {t.name for t in pca.data}


def test_every_chart_uses_the_house_template_and_no_network_asset(figures):
    white = pio.templates["plotly_white"]
    for key, fig in figures.items():
        assert fig.layout.template == white, key
        assert fig.layout.title.text, key
        payload = fig.to_json()
        assert "http" not in payload, key
        assert not any(t.type in {"scattermapbox", "scattermap", "choroplethmap"}
                       for t in fig.data), key


# --- K sweep ---


def test_elbow_chart_marks_the_knee_and_the_chosen_k(result):
    metrics = result.sweep.metrics
    fig = charts.elbow_chart(metrics, knee_k=3, chosen_k=4)
    line = fig.data[0]
    assert list(line.x) == metrics["k"].tolist()
    np.testing.assert_allclose(line.y, metrics["inertia"])
    assert line.mode == "lines+markers"
    (elbow,) = [a for a in fig.layout.annotations if a.text == "elbow"]
    assert elbow.x == 3
    assert elbow.y == pytest.approx(metrics.set_index("k").loc[3, "inertia"])
    (chosen,) = [t for t in fig.data if t.name and "Chosen" in t.name]
    assert list(chosen.x) == [4]
    assert chosen.y[0] == pytest.approx(metrics.set_index("k").loc[4, "inertia"])


def test_elbow_chart_without_a_knee_or_choice_draws_only_the_curve(result):
    fig = charts.elbow_chart(result.sweep.metrics, knee_k=None, chosen_k=None)
    assert len(fig.data) == 1
    assert not [a for a in fig.layout.annotations if a.text == "elbow"]


def test_elbow_chart_uses_the_sweeps_knee(figures, result):
    (elbow,) = [a for a in figures["elbow"].layout.annotations if a.text == "elbow"]
    assert elbow.x == result.sweep.knee_k


def test_k_metrics_chart_shows_four_measures_with_references(result):
    metrics = result.sweep.metrics.drop(columns="stability")
    chosen_k = result.chosen_k
    fig = charts.k_metrics_chart(metrics, chosen_k)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(lines) == 4
    by_axis = {t.yaxis: t for t in lines}
    np.testing.assert_allclose(by_axis["y"].y, metrics["silhouette"])
    np.testing.assert_allclose(by_axis["y2"].y, metrics["calinski_harabasz"])
    np.testing.assert_allclose(by_axis["y3"].y, metrics["davies_bouldin"])
    np.testing.assert_allclose(by_axis["y4"].y, metrics["min_share"] * 100)
    titles = [a.text for a in fig.layout.annotations]
    assert any("Calinski" in t and "higher is better" in t for t in titles)
    assert any("Davies" in t and "lower is better" in t for t in titles)
    dashed = {(s.yref, s.y0) for s in fig.layout.shapes if s.line.dash == "dash"}
    assert dashed == {("y", WEAK_SILHOUETTE), ("y4", SMALL_SEGMENT_SHARE * 100)}
    assert any("weak below" in t for t in titles)
    chosen = [t for t in fig.data if t.legendgroup == "chosen"]
    assert len(chosen) == 4 and all(list(t.x) == [chosen_k] for t in chosen)
    row = metrics.set_index("k").loc[chosen_k]
    assert {t.yaxis: t.y[0] for t in chosen} == pytest.approx({
        "y": row["silhouette"], "y2": row["calinski_harabasz"],
        "y3": row["davies_bouldin"], "y4": row["min_share"] * 100})
    assert sum(bool(t.showlegend) for t in chosen) == 1


def test_k_metrics_chart_adds_split_half_agreement_when_measured(result):
    metrics = result.sweep.metrics
    assert "stability" in metrics
    fig = charts.k_metrics_chart(metrics, result.chosen_k)
    lines = {t.yaxis: t for t in fig.data if t.mode == "lines+markers"}
    assert len(lines) == 5
    np.testing.assert_allclose(lines["y5"].y, metrics["stability"])
    dashed = {(s.yref, s.y0) for s in fig.layout.shapes if s.line.dash == "dash"}
    assert ("y5", REPLICATES) in dashed
    titles = [a.text for a in fig.layout.annotations]
    assert any("Split-half" in t for t in titles)


# --- silhouette ---


def test_silhouette_diagram_has_one_row_per_customer_with_a_silhouette(result, names, colors):
    seg = result.segmentation
    frame = explore.silhouette_frame(seg, names)
    fig = charts.silhouette_diagram(frame, colors, seg.silhouette)
    assert sum(len(t.x) for t in fig.data) == int(np.isfinite(seg.silhouette_values).sum())
    assert [t.name for t in fig.data] == in_segment_order(names)
    ranks = []
    for s, trace in enumerate(fig.data):
        rows = frame.loc[frame["segment"] == s]
        # Filled from zero across to each customer's silhouette: the bars' shape, one path.
        assert trace.type == "scatter" and trace.fill == "tozerox"
        np.testing.assert_allclose(trace.x, rows["silhouette"])
        assert list(trace.y) == rows["rank"].tolist()
        assert [c[0] for c in trace.customdata] == rows["customer_id"].tolist()
        assert "customdata[0]" in trace.hovertemplate
        assert trace.fillcolor == trace.line.color == colors[names[s]]
        # Best first within the segment, so the outline is the segment's silhouette profile.
        assert list(trace.x) == sorted(trace.x, reverse=True)
        ranks.extend(trace.y)
    assert len(set(ranks)) == len(ranks)  # every customer on a row of their own
    (mean_line,) = fig.layout.shapes
    assert mean_line.x0 == mean_line.x1 == pytest.approx(seg.silhouette)


def test_silhouette_diagram_on_sampled_silhouettes_skips_the_unmeasured(result, names, colors):
    seg = result.segmentation
    values = seg.silhouette_values.copy()
    values[::2] = np.nan  # as on large data: only a sample has a silhouette
    frame = explore.silhouette_frame(dataclasses.replace(seg, silhouette_values=values), names)
    fig = charts.silhouette_diagram(frame, colors, float(np.nanmean(values)))
    assert sum(len(t.x) for t in fig.data) == int(np.isfinite(values).sum())


# --- spend and value ---


def test_spend_ranking_chart_ranks_by_spend_and_shows_both_shares(result, names, colors):
    frame = explore.segment_value(result.profiles, names)
    assert set(frame["variable"]) == {"total_spend"}
    # Handing the frame over in segment order must not change the ranking.
    fig = charts.spend_ranking_chart(frame.sort_values("segment"), colors)
    ranked = frame.sort_values("avg_value", ascending=False)
    spend, *shares = fig.data
    assert list(spend.y) == ranked["persona"].map(shown).tolist()
    np.testing.assert_allclose(spend.x, ranked["avg_value"])
    assert list(spend.marker.color) == [colors[p] for p in ranked["persona"]]
    # Horizontal categories are drawn bottom up: the top spender comes last.
    assert list(fig.layout.yaxis.categoryarray)[-1] == shown(ranked["persona"].iloc[0])
    assert list(fig.layout.yaxis.categoryarray) == ranked["persona"].map(shown).tolist()[::-1]
    by_name = {t.name: t for t in shares}
    np.testing.assert_allclose(by_name["Share of customers"].x, ranked["customer_share"] * 100)
    np.testing.assert_allclose(by_name["Share of Total spend"].x, ranked["value_share"] * 100)
    assert sum(by_name["Share of Total spend"].x) == pytest.approx(100)
    assert fig.layout.barmode == "group"
    assert {t.xaxis for t in shares} == {"x2"} and spend.xaxis == "x"


def test_box_chart_is_built_from_the_precomputed_percentiles(result, names, colors):
    frame = explore.spread(result.features, result.segmentation, names, "Income")
    fig = charts.box_chart(frame, colors, "Income")
    boxes = [t for t in fig.data if t.type == "box"]
    assert [t.name for t in boxes] == frame.sort_values("segment")["persona"].map(shown).tolist()
    for trace, row in zip(boxes, frame.sort_values("segment").itertuples(), strict=True):
        assert trace.lowerfence[0] == pytest.approx(row.p05)
        assert trace.upperfence[0] == pytest.approx(row.p95)
        assert trace.q1[0] == pytest.approx(row.q1)
        assert trace.median[0] == pytest.approx(row.median)
        assert trace.q3[0] == pytest.approx(row.q3)
        assert trace.mean[0] == pytest.approx(row.mean)
        assert trace.boxpoints is False
        assert trace.y is None  # no raw customers are sent to the browser
    (medians,) = [t for t in fig.data if t.type == "scatter"]
    np.testing.assert_allclose(medians.y, frame.sort_values("segment")["median"])
    assert list(medians.customdata) == frame.sort_values("segment")["n"].tolist()
    assert "whiskers: 5th–95th percentile" in fig.layout.title.text
    assert "whiskers: 5th–95th percentile" in fig.layout.yaxis.title.text
    assert list(fig.layout.xaxis.categoryarray) == in_segment_order(names)


# --- heatmaps ---


def test_correlation_heatmap_prints_rounded_r_centred_at_zero(result):
    frame = explore.spend_correlation(result.features, result.segmentation, 1)
    fig = charts.correlation_heatmap(frame, "Spend correlations")
    (heat,) = fig.data
    assert heat.zmid == 0 and heat.zmin == -1 and heat.zmax == 1
    assert heat.colorscale == go.Heatmap(colorscale="RdBu").colorscale
    labels = pd.unique(frame["label_a"]).tolist()
    assert list(heat.y) == labels and list(heat.x) == labels
    for _, row in frame.iterrows():
        i, j = labels.index(row["label_a"]), labels.index(row["label_b"])
        assert heat.text[i][j] == f"{row['r']:.2f}"
        assert heat.z[i][j] == pytest.approx(row["r"])
    assert heat.texttemplate == "%{text}"


def test_correlation_heatmap_keeps_the_frames_order_and_blanks_nan(result):
    frame = explore.spend_correlation(result.features)
    order = pd.unique(frame["var_a"])[::-1]
    rank = {v: i for i, v in enumerate(order)}
    reordered = frame.sort_values(["var_a", "var_b"], key=lambda s: s.map(rank),
                                  ignore_index=True)
    reordered.loc[1, "r"] = np.nan  # a constant column within a small segment
    fig = charts.correlation_heatmap(reordered, "x")
    (heat,) = fig.data
    labels = pd.unique(reordered["label_a"]).tolist()
    assert list(heat.y) == labels and list(heat.x) == labels
    assert labels[0] == frame.loc[frame["var_a"] == order[0], "label_a"].iloc[0]
    assert heat.text[0][1] == ""


def test_profile_heatmap_is_symmetric_around_zero_with_means_on_hover(result, names):
    frame = explore.profile_z(result.profiles, names)
    fig = charts.profile_heatmap(frame)
    (heat,) = fig.data
    bound = frame["z"].abs().max()
    assert heat.zmid == 0
    assert heat.zmax == pytest.approx(bound) and heat.zmin == pytest.approx(-bound)
    labels = pd.unique(frame["label"]).tolist()
    assert list(heat.y) == in_segment_order(names) and list(heat.x) == labels
    for row in frame.itertuples():
        i, j = row.segment, labels.index(row.label)
        assert heat.z[i][j] == pytest.approx(row.z)
        assert heat.text[i][j] == f"{row.z:.1f}"
        assert heat.customdata[i][j] == pytest.approx(row.mean)
    assert "customdata" in heat.hovertemplate
    assert fig.layout.yaxis.autorange == "reversed"  # segment 0 on the top row


# --- channels ---


def test_channel_mix_chart_groups_mean_purchases_per_channel(result, names, colors):
    frame = explore.channel_mix(result.profiles, names)
    fig = charts.channel_mix_chart(frame, colors)
    assert fig.layout.barmode == "group"
    assert [t.name for t in fig.data] == in_segment_order(names)
    channels = pd.unique(frame["channel"]).tolist()
    assert len(channels) == 5
    assert list(fig.layout.xaxis.categoryarray) == channels
    for trace in fig.data:
        rows = frame.loc[frame["persona"].map(shown) == trace.name]
        assert list(trace.x) == rows["channel"].tolist()
        np.testing.assert_allclose(trace.y, rows["mean"])


def test_normalized_channel_mix_stacks_to_100_percent_per_persona(result, names, colors):
    frame = explore.channel_mix(result.profiles, names)
    fig = charts.channel_mix_chart(frame, colors, normalized=True)
    assert fig.layout.barmode in {"stack", "relative"}
    channels = frame.loc[frame["kind"] == "channel", "channel"].unique().tolist()
    assert sorted(t.name for t in fig.data) == sorted(channels)
    totals: dict[str, float] = {}
    for trace in fig.data:
        for persona, y in zip(trace.x, trace.y, strict=True):
            totals[persona] = totals.get(persona, 0.0) + y
    assert set(totals) == set(in_segment_order(names))
    assert all(v == pytest.approx(100) for v in totals.values())
    assert list(fig.layout.xaxis.categoryarray) == in_segment_order(names)


# --- customers ---


def test_pca_chart_shows_customer_ids_and_variance_explained(result, names, colors):
    frame, explained = explore.pca_map(result.features, result.segmentation, names)
    fig = charts.pca_chart(frame, colors, explained)
    assert [t.name for t in fig.data] == in_segment_order(names)
    for trace in fig.data:
        rows = frame.loc[frame["persona"].map(shown) == trace.name]
        fields = trace.hovertemplate
        assert "Customer=" in fields
        position = fields.split("Customer=%{customdata[")[1][0]
        ids = [c[int(position)] for c in trace.customdata]
        assert ids == rows["customer_id"].tolist()
        np.testing.assert_allclose(trace.x, rows["pc1"])
        np.testing.assert_allclose(trace.y, rows["pc2"])
    assert f"{explained[0]:.0%}" in fig.layout.xaxis.title.text
    assert f"{explained[1]:.0%}" in fig.layout.yaxis.title.text
    assert sum(len(t.x) for t in fig.data) == len(frame)


def test_pca_chart_with_one_component_has_no_second_share(result, names, colors):
    frame, _ = explore.pca_map(result.features, result.segmentation, names)
    fig = charts.pca_chart(frame, colors, (0.9,))
    assert "90%" in fig.layout.xaxis.title.text
    assert "%" not in fig.layout.yaxis.title.text


def test_distribution_chart_has_one_violin_per_persona_in_segment_order(result, names, colors):
    frame = explore.customer_values(result.features, result.segmentation, names, "Income")
    fig = charts.distribution_chart(frame.sample(frac=1, random_state=0), colors, "Income")
    assert [t.name for t in fig.data] == in_segment_order(names)
    assert list(fig.layout.xaxis.categoryarray) == in_segment_order(names)
    for trace in fig.data:
        assert trace.type == "violin"
        expected = frame.loc[frame["persona"].map(shown) == trace.name, "value"]
        np.testing.assert_allclose(np.sort(trace.y), np.sort(expected))
    # Each violin scales on its own, so a spread-out persona is not drawn as a line.
    assert len({t.scalegroup for t in fig.data}) == len(names)
    assert fig.layout.yaxis.title.text == "Income"


def test_value_forest_and_bandit_charts_show_the_engines_numbers(result, names, colors):
    from segmentation.plan import bandit, value

    worth = value.segment_value(result, names)
    fig = charts.value_chart(worth, colors)
    ordered = worth.sort_values("segment")
    np.testing.assert_allclose(fig.data[0].y, ordered["clv"])
    np.testing.assert_allclose(fig.data[1].y, ordered["clv"] * ordered["customers"])
    per_segment = pd.DataFrame({"segment": [0, 1], "persona": [names[0], names[1]],
                                "rel_lift": [0.2, -0.1], "rel_lift_low": [0.05, -0.3],
                                "rel_lift_high": [0.4, 0.1]})
    fig = charts.forest_chart(per_segment, colors, {"rel_lift": 0.1, "rel_lift_low": 0.0,
                                                    "rel_lift_high": 0.2})
    point = fig.data[0]
    np.testing.assert_allclose(point.x, [20, -10, 10])
    np.testing.assert_allclose(point.error_x.array, [20, 20, 10])
    np.testing.assert_allclose(point.error_x.arrayminus, [15, 20, 10])
    assert list(point.y)[-1] == "All customers (within segments)"
    sim = bandit.simulate({"A": 0.05, "B": 0.1}, n_visitors=2000)
    fig = charts.bandit_chart(sim.traffic)
    np.testing.assert_allclose(fig.data[0].y, sim.traffic["bandit_share_worse"] * 100)
    np.testing.assert_allclose(fig.data[1].y, sim.traffic["split_share_worse"] * 100)


def test_rfm_heatmap_counts_and_escapes_persona_names():
    frame = pd.DataFrame({
        "cell": ["Champions", "Lost"] * 2, "segment": [0, 0, 1, 1],
        "persona": ["<b>A</b>", "<b>A</b>", "B", "B"], "customers": [3, 1, 0, 4],
        "share": [0.75, 0.25, 0.0, 1.0]})
    fig = charts.rfm_heatmap(frame)
    trace = fig.data[0]
    assert list(trace.x) == [html.escape("<b>A</b>", quote=False), "B"]
    assert list(trace.y) == ["Champions", "Lost"]
    assert [list(row) for row in trace.text] == [["3", "0"], ["1", "4"]]
    assert np.allclose(np.asarray(trace.z, float), [[75, 0], [25, 100]])
