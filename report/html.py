"""One self-contained, interactive HTML report of a segmentation run.

The report holds what the studio shows, page by page: the data and what was
cleaned, the clustering variables, the choice of K, the profile table, the
exploration charts, the stability checks and the personas with their
strategies. Figures are the studio's own (:mod:`charts` fed by
:mod:`segmentation.describe.explore`), so a number in the report is the number the
app shows.

The file opens offline: plotly.js is embedded once, inline, and a
Content-Security-Policy lets only the report's own scripts (plotly.js and one
call per chart, allowed by their SHA-256 hashes) run, and forbids any network
request. Everything that came from the user (file name, column names,
category values, variable labels, persona names and strategies) is escaped
before it reaches the page, and chart text goes through the charts' own
escaping.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

import charts
from charts.drivers import ablation_frame, drivers_chart
from report.methods import splits_section
from report.strata import STRATA_SECTION, strata_section
from segmentation.cluster.kmeans import N_SPLITS, REPLICATES
from segmentation.cluster.rfm import rfm_of
from segmentation.cluster.strata import strata_bootstrap, strata_split_half
from segmentation.config import JACCARD_DOUBTFUL, JACCARD_HIGHLY_STABLE, JACCARD_STABLE
from segmentation.data.dataset import column_table
from segmentation.data.orders import FIELD_LABELS, REASON_NO_CUSTOMER
from segmentation.describe import explore
from segmentation.describe.drivers import run_drivers
from segmentation.describe.personas import Persona
from segmentation.describe.rules import persona_rules
from segmentation.errors import SegmentationError
from segmentation.export.assignments import checked_personas
from segmentation.export.outputs import summary_dict
from segmentation.export.strategy import lifetime_segments
from segmentation.history.store import History
from segmentation.history.trends import alerts, means_trend, persona_trend
from segmentation.pipeline import SegmentationResult
from segmentation.plan.lifetime import Lifetime
from segmentation.prepare.features import SCALING_LABELS
from segmentation.validate.ablation import Ablation
from segmentation.validate.stability import (
    DEFAULT_BOOTSTRAPS,
    DISSOLVED,
    RECOVERED,
    STATISTIC_CUSTOMERS,
    STATISTIC_MEAN,
    Bootstrap,
    SplitHalf,
    bootstrap_stability,
    data_size_warning,
    small_segment_check,
    split_half,
)

#: The report's sections in page order: (anchor id, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("data", "Data and cleaning"),
    ("variables", "Variables and scaling"),
    ("drivers", "What drives the segments"),
    ("k", "Number of segments (K)"),
    ("splits", "How segments split as K grows"),
    ("profiles", "Segment profiles"),
    ("explore", "Explore the segments"),
    ("stability", "Stability"),
    ("personas", "Personas and strategies"),
    ("rules", "Find each segment with a filter"),
)
#: Shown after "data" when the file was a log of order lines.
LOG_SECTION = ("orders", "Order log")
HISTORY_SECTION = ("history", "The personas over the recorded runs")
_HEADINGS = dict((*SECTIONS, LOG_SECTION, HISTORY_SECTION))

# No plotly logo link (the report makes no request and links nowhere) and
# PNG downloads at twice the size, sharp enough for slides.
_CHART_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_OUTLIER_POLICY = {"clip": "clipped to the nearest plausible value",
                   "keep": "kept as they are",
                   "exclude": "those customers excluded"}
_MISSING_POLICY = {"impute": "numbers are filled with the column's median, categories with the "
                             "most common value",
                   "drop": "customers missing a clustering variable are dropped"}
_PERSONA_FIELDS = (("description", "Description"), ("offer", "Offer"),
                   ("channels", "Channels"), ("tone", "Tone"),
                   ("products", "Products to promote"), ("treatment", "Treatment"))
_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; }
h2 { font-size: 1.45rem; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 24px 0 6px; }
.meta, .note { color: var(--muted); }
.note { font-size: 0.9rem; margin: 4px 0 12px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 12px 0;
         list-style: none; counter-reset: sec; }
nav li { counter-increment: sec; }
nav li::before { content: counter(sec) ". "; color: var(--muted); }
nav a { color: #0969da; text-decoration: none; }
.figures { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 12px 0; padding: 0; }
.figures div { min-width: 120px; }
.figures dt { color: var(--muted); font-size: 0.85rem; }
.figures dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
.callout { background: #ddf4ff; border-left: 4px solid #0969da; padding: 8px 14px; margin: 12px 0; }
.warning { background: #fff8c5; border-left: 4px solid #bf8700; padding: 8px 14px; margin: 8px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left;
         vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.scroll { overflow-x: auto; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 0 32px; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px;
          margin-right: 6px; vertical-align: baseline; }
.chart { margin: 8px 0 24px; }
#profile-table td:nth-child(2) { min-width: 14em; }
article.persona { border: 1px solid var(--line); border-left: 8px solid var(--line);
                  border-radius: 6px; padding: 4px 18px 10px; margin: 16px 0; }
article.persona h3 { margin-top: 12px; }
article.persona dl { display: grid; grid-template-columns: 170px 1fr; gap: 4px 16px; margin: 8px 0; }
article.persona dt { color: var(--muted); }
article.persona dd { margin: 0; white-space: pre-wrap; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 48px; padding-bottom: 32px;
         border-top: 1px solid var(--line); }
@media print { .chart { break-inside: avoid; } nav { display: none; } }
"""


class _Markup(str):
    """HTML built here from escaped parts: inserted as is, never escaped twice."""


def _e(value) -> str:
    """Escape text for HTML content and attribute values alike."""
    return value if isinstance(value, _Markup) else html.escape(str(value), quote=True)


def _num(value, digits: int = 0) -> str:
    # A variable the file does not have shows as a dash, not "nan".
    if value is None or not np.isfinite(float(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def _pct(value, digits: int = 1) -> str:
    if value is None or not np.isfinite(float(value)):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def _p(text, cls: str | None = None) -> str:
    return f'<p class="{cls}">{_e(text)}</p>' if cls else f"<p>{_e(text)}</p>"


def _table(headers, rows, *, numeric=(), table_id: str | None = None) -> str:
    """An HTML table; every header and cell is escaped unless built here as markup.

    ``numeric`` holds the positions of right-aligned number columns.
    """
    ident = f' id="{_e(table_id)}"' if table_id else ""
    align = [' class="num"' if i in numeric else "" for i in range(len(headers))]
    head = "".join(f'<th scope="col"{align[i]}>{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{align[i]}>{_e(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return (f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _figures(items) -> str:
    """Key figures as a definition list: (label, value) pairs."""
    cells = "".join(f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>"
                    for label, value in items)
    return f'<dl class="figures">{cells}</dl>'


def _warnings(messages) -> str:
    return "".join(f'<div class="warning">{_e(m)}</div>' for m in messages)


def _chart(fig: go.Figure, key: str, height: int = 480) -> str:
    """A chart's div and its one plotly call; plotly.js itself is loaded once, in the head."""
    # plotly's JSON escapes "<", ">" and "/", so no text in a figure can end the script.
    snippet = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{key}",
                          default_height=f"{height}px", default_width="100%",
                          config=_CHART_CONFIG)
    return f'<div class="chart">{snippet}</div>'


def _swatch(color: str) -> _Markup:
    # Colours come from the chart palette (fixed hex codes), never from the user.
    return _Markup(f'<span class="swatch" style="background:{_e(color)}"></span>')


def _persona_cell(name: str, color: str) -> _Markup:
    return _Markup(f"{_swatch(color)}{_e(name)}")


def _segment_colors(names: dict[int, str]) -> dict[int, str]:
    """Each segment's chart colour. Keyed by segment: two personas may share a name."""
    return {s: charts.persona_colors({s: n})[n] for s, n in names.items()}


def _section(key: str, parts) -> str:
    return (f'<section id="{key}"><h2>{_e(_HEADINGS[key])}</h2>'
            + "".join(parts) + "</section>")


# --- sections ----------------------------------------------------------------------------------

def _data_section(result: SegmentationResult, summary: dict) -> str:
    # Counts come from summary_dict, so the report and summary.json agree.
    raw, dataset = result.raw, result.dataset
    dropped = summary["rows_dropped"]
    parts = [_figures([("Rows read", f"{summary['rows_read']:,}"),
                       ("Customers segmented", f"{summary['rows_kept']:,}"),
                       ("Rows dropped", f"{sum(dropped.values()):,}"),
                       ("Columns", f"{len(dataset.roles):,}")])]
    read_as = f"File {raw.name}"
    if raw.file_format == "text":
        delimiter = _DELIMITERS.get(raw.delimiter, "no")
        read_as += (f", read as {raw.encoding} text, {delimiter}-separated, decimal mark "
                    f"'{raw.decimal}'.")
    else:
        read_as += f", read as {raw.file_format}."
    parts.append(_p(read_as, "note"))
    parts.extend(_p(note, "note") for note in dataset.notes)

    parts.append("<h3>Rows not segmented</h3>")
    if dropped:
        parts.append(_table(["Reason", "Rows"], [[why, f"{n:,}"] for why, n in dropped.items()],
                            numeric=(1,), table_id="dropped-table"))
    else:
        parts.append(_p("Every row read is a customer in the segmentation.", "note"))
    if dataset.malformed_lines:
        lines = ", ".join(map(str, dataset.malformed_lines[:20]))
        more = " …" if len(dataset.malformed_lines) > 20 else ""
        parts.append(_p(f"Malformed lines skipped: {lines}{more}", "note"))
    if dataset.duplicate_ids:
        parts.append(_p("Duplicate ids (first kept): " + ", ".join(dataset.duplicate_ids[:10]),
                        "note"))

    parts.append("<h3>Column roles</h3>")
    parts.append(_p("How each column of the file was read. Ids, constant columns and free "
                    "text are never clustered on.", "note"))
    table = column_table(dataset)
    rows = [[r.column, r.role, r.first_values, "–" if pd.isna(r.missing) else f"{r.missing:,}"]
            for r in table.itertuples(index=False)]
    parts.append(_table(["Column", "Role", "First values", "Missing"], rows, numeric=(3,),
                        table_id="roles-table"))

    parts.append('<div class="columns"><div>')
    parts.append("<h3>Missing values</h3>")
    policy = result.features.preparation.missing
    if summary["missing_values"]:
        parts.append(_table(
            ["Column", "Missing", "Imputed"],
            [[c, f"{n:,}", f"{summary['imputed'].get(c, 0):,}"]
             for c, n in summary["missing_values"].items()],
            numeric=(1, 2), table_id="missing-table"))
        parts.append(_p(f"Policy: {_MISSING_POLICY[policy]}.", "note"))
    else:
        parts.append(_p("No missing values in the columns used.", "note"))

    outliers = summary["outliers"]
    parts.append("<h3>Implausible values</h3>")
    parts.append(_p(f"Policy: {_OUTLIER_POLICY[outliers['policy']]}.", "note"))
    if outliers["flagged"]:
        rules = {r.variable: r for r in result.features.preparation.outlier_rules}
        variables = result.features.variables
        rows = []
        for var, n in outliers["flagged"].items():
            rule = rules.get(var)
            plausible = "–" if rule is None else (
                f"{_num(rule.low, 0)} and above" if np.isinf(rule.high)
                else f"{_num(rule.low, 0)} to {_num(rule.high, 0)}")
            rows.append([variables[var].label if var in variables else var, f"{n:,}",
                         plausible, rule.why if rule else "–"])
        parts.append(_table(["Variable", "Flagged", "Plausible range", "Why"], rows,
                            numeric=(1,), table_id="outliers-table"))
    else:
        parts.append(_p("Nothing implausible found.", "note"))
    parts.append("</div><div>")
    parts.append("<h3>Columns excluded from clustering</h3>")
    if summary["excluded_columns"]:
        parts.append(_table(["Column", "Why"], list(summary["excluded_columns"].items()),
                            table_id="excluded-table"))
    else:
        parts.append(_p("No column is excluded.", "note"))
    parts.append("</div></div>")
    return _section("data", parts)


def _variables_section(result: SegmentationResult) -> str:
    fm = result.features
    prep = fm.preparation
    parts = [_p(f"Clustering on {len(fm.features)} variables, scaled with "
                f"{SCALING_LABELS.get(prep.scaling, prep.scaling)}.")]
    rows = []
    for i, (name, weight) in enumerate(zip(fm.features, prep.weights, strict=True), start=1):
        var = fm.variables[name]
        scaled = ("log1p, then z-score" if name in prep.log_features
                  else "robust (median, IQR)" if prep.scaling == "robust" else "z-score")
        rows.append([str(i), var.label, ", ".join(var.sources), var.group, scaled,
                     f"{weight:g}"])
    parts.append(_table(["#", "Variable", "From columns", "Group", "Scaling", "Weight"], rows,
                        numeric=(0, 5), table_id="variables-table"))
    parts.append(_p("A weight of 2 counts a variable's differences twice, 0.5 half as much.",
                    "note"))
    parts.append("<h3>Composites</h3>")
    if prep.composites:
        items = []
        for a, b in prep.composites:
            composite = fm.variables.get(f"{a}+{b}")
            label = composite.label if composite else f"{a}+{b}"
            la = fm.variables[a].label if a in fm.variables else a
            lb = fm.variables[b].label if b in fm.variables else b
            items.append(f"<li>{_e(label)}: combines {_e(la)} and {_e(lb)}</li>")
        parts.append(f"<ul>{''.join(items)}</ul>")
    else:
        parts.append(_p("No composites: every variable is clustered on its own.", "note"))
    parts.append(_warnings(fm.report.warnings))
    parts.append(_warnings(c.message for c in fm.report.correlated))
    ages = (f" Ages are measured at {prep.reference_year}." if "age" in fm.variables else "")
    parts.append(_p(f"Implausible values: {_OUTLIER_POLICY[prep.outliers]}; missing values: "
                    f"{_MISSING_POLICY[prep.missing]}.{ages}", "note"))
    return _section("variables", parts)


def _drivers_section(result: SegmentationResult, ablation: Ablation | None) -> str:
    """Each variable's share of variance between segments, the split warning, the ablation."""
    drivers, warning = run_drivers(result)
    parts = [_warnings([warning.message] if warning else []),
             _p("Each bar is the share of a variable's variance that lies between segments "
                "(η²; a category's levels pooled). Pale bars are variables only profiled.",
                "note"),
             _chart(drivers_chart(drivers), "drivers")]
    rows = [[r.label, r.role, "yes" if r.clustered else "no", _pct(r.eta2, 0),
             _pct(r.iqr_overlap, 0)]
            for r in drivers.itertuples()]
    parts.append(_table(["Variable", "Role", "Clustered on", "Variance between segments",
                         "Largest overlap of middle-50% ranges"], rows, numeric=(3, 4),
                        table_id="drivers-table"))
    if ablation is not None:
        parts.append("<h3>Each clustering variable left out</h3>")
        parts.append(_p(ablation.summary().verdict))
        shown = ablation_frame(ablation.table)
        parts.append(_table(list(shown.columns),
                            [[r[0], f"{r[1]:.2f}", f"{r[2]:.3f}", "yes" if r[3] else "no"]
                             for r in shown.itertuples(index=False)], numeric=(1, 2),
                            table_id="ablation-table"))
    return _section("drivers", parts)


def _k_section(result: SegmentationResult, names: dict[int, str],
               colors: dict[str, str]) -> str:
    sweep, seg = result.sweep, result.segmentation
    chosen = result.chosen_k
    parts = [f'<div class="callout"><strong>Recommended: K = {sweep.recommended_k}.</strong> '
             f"{_e(sweep.summary().verdict)}</div>"]
    if chosen != sweep.recommended_k:
        parts.append(_p(f"This report uses K = {chosen}, chosen by hand."))
    parts.append(_chart(charts.elbow_chart(sweep.metrics, sweep.knee_k, chosen), "elbow", 450))
    parts.append(_chart(charts.k_metrics_chart(sweep.metrics, chosen), "k-metrics", 620))
    if sweep.silhouette_sample_size:
        parts.append(_p(f"Silhouettes estimated on a fixed sample of "
                        f"{sweep.silhouette_sample_size:,} customers.", "note"))
    parts.append(_chart(charts.silhouette_diagram(explore.silhouette_frame(seg, names), colors,
                                                  seg.silhouette), "silhouette", 480))
    metrics = sweep.metrics
    has_stability = "stability" in metrics
    headers = ["K", "Inertia (WCSS)", "Silhouette", "Calinski–Harabasz", "Davies–Bouldin",
               "Smallest segment"] + (["Split-half agreement (median)", "Lowest split",
                                       "Highest split"] if has_stability else [])
    rows = []
    for row in metrics.itertuples(index=False):
        mark = " (chosen)" if int(row.k) == chosen else ""
        cells = [f"{int(row.k)}{mark}", _num(row.inertia), _num(row.silhouette, 3),
                 _num(row.calinski_harabasz), _num(row.davies_bouldin, 2),
                 _pct(row.min_share, 0)]
        if has_stability:
            cells += [_num(row.stability, 2), _num(row.stability_min, 2),
                      _num(row.stability_max, 2)]
        rows.append(cells)
    parts.append(_table(headers, rows, numeric=tuple(range(1, len(headers))),
                        table_id="k-table"))
    if has_stability:
        parts.append(_p(f"Split-half agreement is the median over {N_SPLITS} random splits of "
                        "the customers into halves; a K whose median is under "
                        f"{REPLICATES:g} is not recommended.", "note"))
    return _section("k", parts)


def _format(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct1":
        return _pct(value, 1)
    if kind.startswith("num"):
        return _num(value, int(kind[3:]))
    return str(value)


def _profile_section(result: SegmentationResult, personas: tuple[Persona, ...],
                     seg_colors: dict[int, str]) -> str:
    sheet = explore.cheat_sheet(result.profiles, personas)
    columns = explore.cheat_sheet_columns(result.profiles, sheet)
    rows = []
    for record in sheet.to_dict(orient="records"):
        row = [_format(record[c], kind) for c, (_, kind) in columns.items()]
        row[1] = _persona_cell(record["persona"], seg_colors[int(record["segment"])])
        rows.append(row)
    numeric = tuple(i for i, (_, kind) in enumerate(columns.values()) if kind != "text")
    notes = ["Averages per customer of each segment; a yes/no or category value shows the "
             "share of the segment that has it."]
    if "revenue_share" in columns:
        notes.append("Share of revenue is the segment's part of everyone's total spend.")
    if "preferred_channel" in columns:
        notes.append("The preferred channel is where its purchases stand out most.")
    parts = [_table([h for h, _ in columns.values()], rows, numeric=numeric,
                    table_id="profile-table"),
             _p(" ".join(notes), "note")]
    return _section("profiles", parts)


def _orders_section(result: SegmentationResult, names: dict[int, str],
                   personas: tuple[Persona, ...], seg_colors: dict[int, str],
                   lifetime: Lifetime | None = None) -> str:
    """What became of every order line, the personas against the RFM grid, and lifetime."""
    log = result.dataset.log
    no_customer = log.dropped.get(REASON_NO_CUSTOMER, 0)
    parts = [_figures([("Lines read", f"{log.lines_read:,}"),
                       ("Lines aggregated", f"{log.lines_aggregated:,}"),
                       ("Customers", f"{len(log.customers):,}"),
                       ("Lines of no customer", f"{no_customer:,}"),
                       ("Return lines netted", f"{log.return_lines:,}")])]
    parts.append(_p(f"Recency is counted to {log.reference_date}. The lines without a customer "
                    f"id carry a net {_num(log.missing_id_revenue, 2)} of revenue that no "
                    "segment counts.", "note"))
    parts.extend(_p(note, "note") for note in log.notes)
    parts.append('<div class="columns"><div>')
    parts.append("<h3>Lines left out</h3>")
    if log.dropped:
        parts.append(_table(["Reason", "Lines"],
                            [[why, f"{n:,}"] for why, n in log.dropped.items()],
                            numeric=(1,), table_id="log-dropped-table"))
    else:
        parts.append(_p("No line was left out.", "note"))
    parts.append("</div><div>")
    parts.append("<h3>Columns used</h3>")
    parts.append(_table(["Field", "Column"],
                        [[FIELD_LABELS.get(f, f), c] for f, c in log.mapping.items()],
                        table_id="log-mapping-table"))
    parts.append("</div></div>")
    table = rfm_of(result)
    if table is not None:
        parts.append("<h3>The personas against the RFM grid</h3>")
        parts.append(_p("Customers in each cell of the usual RFM segment map (recency and "
                        "frequency scored 1 to 5 by quintile), by persona.", "note"))
        grid = explore.rfm_grid(table, result.segmentation.labels, names)
        wide = grid.pivot(index="cell", columns="segment", values="customers").reindex(
            index=pd.unique(grid["cell"]), columns=sorted(names))
        parts.append(_table(["RFM cell", *[names[s] for s in wide.columns]],
                            [[cell, *[f"{int(n):,}" for n in row]]
                             for cell, row in zip(wide.index, wide.to_numpy(), strict=True)],
                            numeric=tuple(range(1, len(names) + 1)), table_id="rfm-table"))
        parts.append(_chart(charts.rfm_heatmap(grid), "rfm-grid", 480))
    if lifetime is not None:
        parts.append(_lifetime_part(result, personas, seg_colors, lifetime))
    return _section("orders", parts)


def _lifetime_part(result: SegmentationResult, personas: tuple[Persona, ...],
                   seg_colors: dict[int, str], lifetime: Lifetime) -> str:
    table = lifetime_segments(result, lifetime, personas)
    # Columns in the order of charts.LIFETIME_HEADERS, as the pages show them.
    rows = [[_persona_cell(r.persona, seg_colors[r.segment]), f"{r.customers:,}",
             _num(r.mean_expected_orders_12m, 1), _pct(r.mean_p_alive),
             _num(r.total_expected_value_12m), _num(r.mean_expected_value_12m),
             _pct(r.share_expected_value)] for r in table.itertuples()]
    parts = ["<h3>Customer lifetime per persona</h3>",
             _p(f"Expected orders and value over the next {lifetime.horizon_days} days from a "
                "BG/NBD model of when customers buy and drop out and a Gamma-Gamma model of "
                "what a repeat order is worth, fitted on the order history.", "note"),
             _table([header for header, _ in charts.LIFETIME_HEADERS.values()], rows,
                    numeric=tuple(range(1, 7)), table_id="lifetime-table")]
    parts.extend(_p(note, "note") for note in lifetime.notes)
    return "".join(parts)


# At most this many category mixes in the report: one chart each.
REPORT_CATEGORY_MIXES = 3


def _explore_section(result: SegmentationResult, names: dict[int, str],
                     colors: dict[str, str]) -> str:
    fm, seg, profiles = result.features, result.segmentation, result.profiles
    parts = ["<h3>Who brings the value</h3>"]
    worth = explore.value_variables(profiles)
    if worth:
        parts.append(_chart(charts.spend_ranking_chart(
            explore.segment_value(profiles, names, worth[0]), colors), "spend-ranking", 460))
    else:
        parts.append(_p("Not shown: the file has no money or measure column to rank by.",
                        "note"))
    parts.append("<h3>Spread by segment</h3>")
    measures = explore.measure_variables(profiles)
    if measures:
        parts.append(_chart(charts.box_chart(explore.spread(fm, seg, names, measures[0]),
                                             colors, fm.variables[measures[0]].label),
                            "income-box", 480))
    else:
        parts.append(_p("Not shown: the file has no measure in its own units.", "note"))
    if len(profiles.kind("spend")) > 1:
        parts.append("<h3>Which categories are bought together</h3>")
        parts.append(_chart(charts.correlation_heatmap(explore.spend_correlation(fm),
                                                       "Spend correlation: All customers"),
                            "spend-correlation", 520))
    if profiles.kind("channel"):
        parts.append("<h3>Where each segment buys</h3>")
        mix = explore.channel_mix(profiles, names)
        parts.append(_chart(charts.channel_mix_chart(mix, colors), "channel-mix", 460))
        parts.append(_chart(charts.channel_mix_chart(mix, colors, normalized=True),
                            "channel-share", 460))
    else:
        categories = explore.category_variables(profiles)
        parts.append("<h3>How each segment splits by category</h3>")
        if not categories:
            parts.append(_p("Not shown: the file has neither purchases per channel nor a "
                            "category column.", "note"))
        for i, category in enumerate(categories[:REPORT_CATEGORY_MIXES]):
            parts.append(_chart(charts.category_mix_chart(
                explore.category_mix(profiles, names, category), colors,
                fm.variables[category].label if category in fm.variables else category),
                f"category-mix-{i}", 460))
    if result.dataset.log is not None:
        parts.append("<h3>Recency, frequency and spend</h3>")
        for measure in explore.RFM_MEASURES:
            if measure in fm.variables:
                parts.append(_chart(charts.box_chart(
                    explore.spread(fm, seg, names, measure), colors,
                    fm.variables[measure].label), f"rfm-box-{measure}", 440))
        for i, (title, measure, variables) in enumerate(
                explore.log_share_variables(result.dataset.log)):
            parts.append(f"<h3>{_e(title)}</h3>")
            parts.append(_chart(charts.category_mix_chart(
                explore.share_mix(profiles, names, variables), colors, title, measure),
                f"log-share-{i}", 460))
    parts.append("<h3>How each segment differs from everyone</h3>")
    parts.append(_chart(charts.profile_heatmap(explore.profile_z(profiles, names)),
                        "profile-heatmap", 460))
    frame, explained = explore.pca_map(fm, seg, names, result.config.random_state)
    parts.append(_chart(charts.pca_chart(frame, colors, explained), "pca-map", 560))
    if len(frame) < seg.labels.size:
        parts.append(_p(f"A fixed sample of {len(frame):,} customers is drawn.", "note"))
    return _section("explore", parts)


def _stability_section(result: SegmentationResult, names: dict[int, str],
                       colors: dict[str, str], halves: SplitHalf, boot: Bootstrap) -> str:
    seg, profiles = result.segmentation, result.profiles
    parts = [_p("Segments that do not come back when the data is resampled are noise. These "
                "checks re-cluster parts of the customers with the same settings.", "note")]
    size_note = data_size_warning(seg.labels.size)
    if size_note:
        parts.append(_warnings([size_note]))

    parts.append("<h3>Split-half replication</h3>")
    parts.append(_figures([("Agreement (adjusted Rand index)", f"{halves.ari:.2f}")]))
    split_summary = halves.summary(profiles)
    parts.append(_p(split_summary.verdict))
    table = split_summary.table
    sizes = table[table["statistic"] == STATISTIC_CUSTOMERS]
    means = table[table["statistic"] == STATISTIC_MEAN]
    # One row per half of each pair: the two halves of a segment read one above the other.
    headers = ["Pair", "Half", "Customers"] + list(means.loc[means["pair"] == 1, "label"])
    rows = []
    for size in sizes.itertuples(index=False):
        pair_means = means[means["pair"] == size.pair]
        for half, count, column in (("A", size.value_a, "value_a"),
                                    ("B", size.value_b, "value_b")):
            # Whole numbers for money, one decimal for small counts such as children.
            rows.append([str(size.pair), half, f"{int(count):,}"]
                        + [_num(v, 0 if abs(v) >= 100 else 1) for v in pair_means[column]])
    parts.append(_table(headers, rows, numeric=(0, *range(2, len(headers))),
                        table_id="split-table"))
    parts.extend(_p(note, "note") for note in split_summary.notes)

    parts.append("<h3>Bootstrap stability per persona</h3>")
    parts.append(_p(f"{boot.n_boot} resamples, drawn with replacement; each drawn customer is "
                    f"kept once and the resample re-clustered with K = {seg.n_clusters} "
                    "(Hennig's clusterboot).", "note"))
    summary = boot.summary().table.assign(persona=lambda f: f["segment"].map(names))
    parts.append(_chart(charts.stability_chart(summary, colors), "stability", 420))
    seg_colors = _segment_colors(names)
    rows = [[_persona_cell(r.persona, seg_colors[int(r.segment)]), _num(r.mean_jaccard, 2),
             r.band, f"{r.recovered} of {boot.n_boot}", f"{r.dissolved} of {boot.n_boot}"]
            for r in summary.itertuples(index=False)]
    parts.append(_table(["Persona", "Mean Jaccard", "Reading",
                         f"Recovered (Jaccard > {RECOVERED:g})",
                         f"Dissolved (Jaccard ≤ {DISSOLVED:g})"], rows, numeric=(1, 3, 4),
                        table_id="bootstrap-table"))
    parts.append(_p(f"Hennig's reading of the mean Jaccard: {JACCARD_HIGHLY_STABLE:g} or more "
                    f"highly stable, {JACCARD_STABLE:g} stable, {JACCARD_DOUBTFUL:g} to "
                    f"{JACCARD_STABLE:g} a real pattern but doubtful membership, under "
                    f"{JACCARD_DOUBTFUL:g} not to be trusted.", "note"))
    parts.extend(f'<div class="callout">{_e(n)}</div>'
                 for n in small_segment_check(seg, halves, boot))
    return _section("stability", parts)


def _personas_section(result: SegmentationResult, personas: tuple[Persona, ...],
                      seg_colors: dict[int, str], boot: Bootstrap) -> str:
    seg = result.segmentation
    bands = boot.per_segment.set_index("segment")
    parts = []
    for p in personas:
        color = seg_colors[p.segment]
        stats = (f"Segment {p.segment} · {seg.shares[p.segment]:.0%} of customers "
                 f"({int(seg.sizes[p.segment]):,})")
        if p.segment in bands.index:
            row = bands.loc[p.segment]
            stats += f" · {row['band']} (Jaccard {row['mean_jaccard']:.2f})"
        fields = [(label, getattr(p, attr)) for attr, label in _PERSONA_FIELDS
                  if getattr(p, attr) or attr != "products"]
        if p.claims:
            fields.insert(1, ("Why this name", "; ".join(c.text for c in p.claims)))
        if p.traits:
            fields.append(("Stands out on", "; ".join(p.traits)))
        items = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value or '–')}</dd>"
                        for label, value in fields)
        parts.append(f'<article class="persona" id="persona-{p.segment}" '
                     f'style="border-left-color:{_e(color)}">'
                     f"<h3>{_swatch(color)}{_e(p.name)}</h3>{_p(stats, 'meta')}"
                     f"<dl>{items}</dl></article>")
    return _section("personas", parts)


def _rules_section(result: SegmentationResult, personas: tuple[Persona, ...],
                   seg_colors: dict[int, str]) -> str:
    rules = persona_rules(result)
    parts = [_p(rules.method)]
    entries = []
    for p in personas:
        s = rules.for_segment(p.segment)
        items = "".join(f"<li>{_e(r.text)}</li>" for r in s.shown)
        entries.append(f"<dt>{_swatch(seg_colors[p.segment])}{_e(p.name)}</dt><dd>"
                       + (f"<ul>{items}</ul>" if items else "") + _p(s.verdict) + "</dd>")
    parts.append(f'<dl id="rules-list">{"".join(entries)}</dl>')
    return _section("rules", parts)


# --- the document ------------------------------------------------------------------------------

def _csp(scripts: list[str]) -> str:
    """A policy allowing exactly these inline scripts and no request to anywhere."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode()
        + "'" for s in dict.fromkeys(scripts))
    # Plotly sets inline styles and draws images for its PNG download from
    # data/blob URLs; nothing else may load.
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
            "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'")


def build_report(result: SegmentationResult, personas: tuple[Persona, ...] | None = None, *,
                 split: SplitHalf | None = None, bootstrap: Bootstrap | None = None,
                 lifetime: Lifetime | None = None, history: History | None = None,
                 title: str = "Customer segmentation report",
                 ablation: Ablation | None = None) -> str:
    """The whole run as one self-contained, interactive HTML page.

    Parameters
    ----------
    result : SegmentationResult
        A finished run (:func:`segmentation.run`).
    personas : tuple of Persona, optional
        Names and strategies to show, with the user's edits; default
        ``result.personas``. Must name every segment once.
    split : SplitHalf, optional
        Split-half replication of this run; computed with the run's seed and
        ``n_init`` when not given.
    bootstrap : Bootstrap, optional
        Bootstrap stability of this run; computed with
        ``DEFAULT_BOOTSTRAPS`` (50) resamples when not given.
    lifetime : Lifetime, optional
        The customers' lifetime figures (:func:`segmentation.plan.lifetime.lifetime_of`);
        when given, the order-log section has a table of them per persona.
    history : History, optional
        The run history with this run as its last run
        (:func:`segmentation.history.store.with_run`); when it holds earlier runs, a last
        section shows each persona's trend.
    title : str
        Shown as the page title and main heading (escaped).
    ablation : Ablation, optional
        Each clustering variable left out (:func:`segmentation.validate.ablation.ablate`);
        when given, the drivers section has its table.

    Returns
    -------
    str
        An HTML document: plotly.js inline once, one ``<script>`` per chart,
        no external resource. Sections in the order of :data:`SECTIONS`, with
        :data:`LOG_SECTION` after the data when the file was a log of order lines.

    Raises
    ------
    SegmentationError
        ``personas`` do not name each of the run's segments once (the check of
        :func:`segmentation.export.assignments.checked_personas`, as for every export).
    ValueError
        ``bootstrap`` is not of the run's segments.
    """
    personas = checked_personas(result, personas)
    config, seg = result.config, result.segmentation
    if split is None and result.strata is not None:  # halves clustered within each stratum
        split = strata_split_half(result.strata, config.random_state, config.n_init)
    if split is None:
        split = split_half(result.features, result.chosen_k, config.random_state,
                           config.n_init)
    if bootstrap is None and result.strata is not None:  # resampled within each stratum
        bootstrap = strata_bootstrap(result.strata, DEFAULT_BOOTSTRAPS, config.random_state,
                                     config.n_init)
    if bootstrap is None:
        bootstrap = bootstrap_stability(result.features, seg, DEFAULT_BOOTSTRAPS,
                                        config.random_state, config.n_init)
    if sorted(bootstrap.per_segment["segment"]) != list(range(result.chosen_k)):
        raise ValueError(f"the bootstrap is of {len(bootstrap.per_segment)} segments, not of this "
                         f"run's {result.chosen_k}")
    names = {p.segment: p.name for p in personas}
    colors = charts.persona_colors(names)
    seg_colors = _segment_colors(names)
    summary = summary_dict(result)

    shown = list(SECTIONS)
    sections = [_data_section(result, summary)]
    if result.dataset.log is not None:
        shown.insert(1, LOG_SECTION)
        sections.append(_orders_section(result, names, personas, seg_colors, lifetime))
    if result.strata is not None:
        shown.insert(shown.index(("k", _HEADINGS["k"])) + 1, STRATA_SECTION)
    sections += [
        _variables_section(result),
        _drivers_section(result, ablation),
        _k_section(result, names, colors),
        splits_section(result),
        *strata_section(result),
        _profile_section(result, personas, seg_colors),
        _explore_section(result, names, colors),
        _stability_section(result, names, colors, split, bootstrap),
        _personas_section(result, personas, seg_colors, bootstrap),
        _rules_section(result, personas, seg_colors),
    ]
    shown, sections = _with_history_section(shown, sections, history)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<li><a href="#{key}">{_e(heading)}</a></li>' for key, heading in shown)
    header = (
        f"<header><h1>{_e(title)}</h1>"
        + _p(f"{result.raw.name} · {seg.labels.size:,} customers in {result.chosen_k} "
             f"segments · silhouette {_num(seg.silhouette, 2)} · generated {generated}", "meta")
        + _warnings(result.warnings)
        + f'<nav aria-label="Sections"><ol>{nav}</ol></nav></header>')
    versions = ", ".join(f"{k} {v}" for k, v in summary["versions"].items())
    footer = _p(f"Seed {config.random_state}, {config.n_init} k-means++ restarts per K. "
                f"{versions}.")
    body = f"{header}<main>{''.join(sections)}</main><footer>{footer}</footer>"

    plotly_js = get_plotlyjs()
    scripts = [plotly_js] + _SCRIPT.findall(body)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_csp(scripts))}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n"
        # In the head, so Plotly exists before the first chart's call runs.
        f"<script>{plotly_js}</script>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(result: SegmentationResult, path: str | Path,
                 personas: tuple[Persona, ...] | None = None, *,
                 split: SplitHalf | None = None, bootstrap: Bootstrap | None = None,
                 lifetime: Lifetime | None = None, history: History | None = None,
                 title: str = "Customer segmentation report",
                 ablation: Ablation | None = None) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8) and return the path.

    Raises
    ------
    SegmentationError
        The file cannot be written; one sentence saying what to do.
    """
    path = Path(path)
    text = build_report(result, personas, split=split, bootstrap=bootstrap, lifetime=lifetime,
                        history=history, title=title, ablation=ablation)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write {str(path)!r} ({exc.strerror}): choose another folder."
        ) from None
    return path


def _with_history_section(shown: list, sections: list[str], history: History | None
                          ) -> tuple[list, list[str]]:
    """The report's sections with the personas' trend last, when earlier runs are recorded."""
    if history is None or len(history.runs) < 2:
        return shown, sections
    from charts.history import line_colors, means_trend_chart, share_trend_chart

    last = int(history.runs["run_id"].iloc[-1])
    trend = persona_trend(history)
    lines = set(trend.loc[trend["run_id"] == last, "line"])
    trend = trend[trend["line"].isin(lines)]
    colors = line_colors(history.lines)
    parts = [_p(f"This run is run {last} of the history {Path(history.path).name}: each persona's line "
                "follows the segment whose profile matched it in every earlier run.", "note"),
             _chart(share_trend_chart(trend, colors), "history-share")]
    means = means_trend(history)
    means = means[means["line"].isin(lines)]
    if not means.empty:
        parts.append(_chart(means_trend_chart(means, colors), "history-means", height=560))
    first = trend.groupby("line")[["run_id", "share"]].first()
    rows = [[r.persona, f"{r.share:.1%}", _num(r.size), f"run {int(first.loc[r.line, 'run_id'])}",
             f"{first.loc[r.line, 'share']:.1%}"]
            for r in trend[trend["run_id"] == last].itertuples(index=False)]
    parts.append(_table(["Persona", "Share now", "Customers now", "First recorded",
                         "Share then"], rows, numeric=(1, 2, 4)))
    recent = alerts(history)
    recent = recent[recent["run_id"] == last]["message"].tolist()
    parts.append(_warnings(recent) if recent else _p("No alert against the previous run."))
    return [*shown, HISTORY_SECTION], [*sections, _section(HISTORY_SECTION[0], parts)]
