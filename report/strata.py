"""The report's section on segments within strata: each stratum's K, quality and reason."""

from __future__ import annotations

from charts.strata import stratum_k_chart
from segmentation.pipeline import SegmentationResult

STRATA_SECTION = ("strata", "Segments within strata")


def strata_section(result: SegmentationResult) -> list[str]:
    """The section's HTML as a one-item list, or an empty list for a run without strata."""
    if result.strata is None:
        return []
    # Imported here: report.html imports this module to call it.
    from report.html import _chart, _e, _p, _table

    summary = result.strata.summary()
    table = summary.table
    rows = [(r.stratum, f"{r.customers:,}", r.k,
             "–" if r.silhouette != r.silhouette else f"{r.silhouette:.2f}",
             "–" if r.stability != r.stability else f"{r.stability:.2f}", r.reason)
            for r in table.itertuples(index=False)]
    parts = [f'<div class="callout">{_e(summary.verdict)}</div>',
             _chart(stratum_k_chart(table), "stratum-k", 420),
             _table(("Stratum", "Customers", "K", "Silhouette",
                     "Split-half agreement (median)", "Why this K"), rows,
                    numeric=(1, 2, 3, 4), table_id="strata-table")]
    parts += [_p(note, "note") for note in summary.notes[len(result.strata.fits):]]
    key, heading = STRATA_SECTION
    return [f'<section id="{key}"><h2>{_e(heading)}</h2>' + "".join(parts) + "</section>"]
