"""The report's section on segments within strata."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from report.html import build_report
from segmentation import run
from tests.cluster.test_strata import FAST
from tests.helpers.shapes import to_bytes
from tests.helpers.strata import income_bands


def test_the_report_shows_each_stratum_escaped_and_a_plain_run_has_no_such_section():
    frame = income_bands(n=600)
    frame = frame.assign(Region=np.where(np.arange(len(frame)) % 2, "<b>North</b>", "South"))
    result = run(to_bytes(frame), replace(FAST, strata="Region"), name="regions.csv")
    page = build_report(result)
    assert page.count('<section id="strata">') == 1
    assert '<a href="#strata">Segments within strata</a>' in page
    assert "&lt;b&gt;North&lt;/b&gt;" in page and "<b>North</b>" not in page
    table = page.split('id="strata-table"')[1].split("</table>")[0]
    for f in result.strata.fits:
        assert f"<td>{f.label}</td>".replace("<b>", "&lt;b&gt;").replace(
            "</b>", "&lt;/b&gt;") in table
    assert table.count("<tr>") == 1 + len(result.strata.fits)
    plain = run(to_bytes(frame), replace(FAST, strata=None), name="regions.csv")
    assert 'id="strata"' not in build_report(plain)
