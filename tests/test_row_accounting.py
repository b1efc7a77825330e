"""Every row read is either segmented exactly once or counted under a reason for dropping it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation import RunConfig, SegmentationError, run
from segmentation.data.dataset import REASON_DUPLICATE_ID, REASON_MALFORMED, REASON_MISSING_ID
from segmentation.export.outputs import assignments_frame, summary_dict
from segmentation.prepare.features import REASON_MISSING, REASON_OUTLIER, PrepConfig
from tests.helpers import CHEAP, planted_customers

pytestmark = pytest.mark.slow  # whole runs on hostile files of every shape


def planted(n: int, seed: int):
    """planted_customers() without its attrs (an array there upsets pandas' attrs merging)."""
    frame = planted_customers(n, seed=seed)
    frame.attrs = {}
    # Only the injected birth years may be implausible: a drawn one of 1999 would be an age
    # of 15 in 2014, rightly excluded, but not counted by expected_accounting below.
    frame["Year_Birth"] = frame["Year_Birth"].clip(1930, 1996)
    return frame


# Row accounting does not depend on how the segments are found: one k-means start and no
# split-half agreement per K keep each of the many runs below cheap.

MISSING_ID_MARKERS = ("", "NA", "n/a", "null")
IMPLAUSIBLE_BIRTH_YEARS = (1880, 1901, 2008, 2012)  # ages over 100 or under 16 in 2014


@st.composite
def dirty_tables(draw):
    """A planted table as TSV lines with damage injected, and what a careful reader expects."""
    n = draw(st.integers(60, 150))
    frame = planted(n, seed=draw(st.integers(0, 2**16)))
    rows = st.integers(0, n - 1)

    missing_income = draw(st.sets(rows, max_size=n // 4))
    implausible = draw(st.sets(rows, max_size=n // 6))
    missing_id = draw(st.sets(rows, max_size=n // 6))
    duplicates = draw(st.lists(st.tuples(rows, rows), max_size=n // 6))
    if draw(st.booleans()):  # occasionally ruin the file so that too few customers remain
        survivors = draw(st.integers(0, 8))
        malformed = set(range(survivors, n))
    else:
        malformed = draw(st.sets(rows, max_size=n // 5))

    frame = frame.astype({"ID": object, "Income": float, "Year_Birth": object})
    for i in missing_income:
        frame.loc[i, "Income"] = np.nan
    for i in implausible:
        frame.loc[i, "Year_Birth"] = draw(st.sampled_from(IMPLAUSIBLE_BIRTH_YEARS))
    for src, dst in duplicates:
        frame.loc[dst, "ID"] = frame.loc[src, "ID"]
    for i in missing_id:
        frame.loc[i, "ID"] = draw(st.sampled_from(MISSING_ID_MARKERS))

    header, *lines = frame.to_csv(sep="\t", index=False).splitlines()
    for i in malformed:
        if draw(st.booleans()):
            lines[i] += "\textra field"
        else:
            lines[i] = lines[i].rsplit("\t", 1)[0]
    data = ("\n".join([header, *lines]) + "\n").encode("utf-8")
    return data, frame, malformed


def expected_accounting(frame, malformed, missing: str, outliers: str):
    """Kept ids and drop counts, worked out independently of the engine."""
    dropped = Counter()
    kept = []
    seen = set()
    for i in range(len(frame)):
        if i in malformed:
            dropped[REASON_MALFORMED] += 1
            continue
        cid = frame.loc[i, "ID"]
        if cid in MISSING_ID_MARKERS:
            dropped[REASON_MISSING_ID] += 1
        elif cid in seen:
            dropped[REASON_DUPLICATE_ID] += 1
        else:
            seen.add(cid)
            kept.append(i)
    if missing == "drop":
        no_income = [i for i in kept if np.isnan(frame.loc[i, "Income"])]
        dropped[REASON_MISSING] += len(no_income)
        kept = [i for i in kept if i not in set(no_income)]
    if outliers == "exclude":
        odd = [i for i in kept if frame.loc[i, "Year_Birth"] in IMPLAUSIBLE_BIRTH_YEARS]
        dropped[REASON_OUTLIER] += len(odd)
        kept = [i for i in kept if i not in set(odd)]
    return [frame.loc[i, "ID"] for i in kept], {k: v for k, v in dropped.items() if v}


@given(table=dirty_tables(),
       missing=st.sampled_from(["impute", "drop"]),
       outliers=st.sampled_from(["clip", "keep", "exclude"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_kept_once_or_counted_as_dropped(table, missing, outliers):
    data, frame, malformed = table
    config = replace(CHEAP, prep=PrepConfig(missing=missing, outliers=outliers))
    kept_ids, expected_dropped = expected_accounting(frame, malformed, missing, outliers)
    try:
        result = run(data, config)
    except SegmentationError as exc:
        # allowed only when too few customers are left to form the segments
        assert len(kept_ids) < 6, f"{len(kept_ids)} usable customers, yet: {exc}"
        return
    assignments = assignments_frame(result)
    summary = summary_dict(result)
    dropped = summary["rows_dropped"]

    assert summary["rows_read"] == len(frame)
    assert summary["rows_read"] == len(assignments) + sum(dropped.values())
    assert summary["rows_kept"] == len(assignments)
    assert assignments["customer_id"].is_unique
    assert Counter(assignments["customer_id"]) == Counter(kept_ids)
    assert dropped == expected_dropped
    assert sorted(result.dataset.malformed_lines) == sorted(i + 2 for i in malformed)


@pytest.mark.parametrize("outliers", ["clip", "exclude"])
def test_accounting_on_a_known_table(outliers):
    frame = planted(90, seed=4).astype({"ID": object, "Income": float})
    frame.loc[[2, 3], "Income"] = np.nan
    frame.loc[5, "Year_Birth"] = 1880
    frame.loc[7, "ID"] = frame.loc[6, "ID"]
    frame.loc[8, "ID"] = ""
    header, *lines = frame.to_csv(sep="\t", index=False).splitlines()
    lines[10] += "\tx"
    data = ("\n".join([header, *lines]) + "\n").encode()
    result = run(data, replace(CHEAP, prep=PrepConfig(missing="drop", outliers=outliers)))
    expected = {REASON_MALFORMED: 1, REASON_MISSING_ID: 1, REASON_DUPLICATE_ID: 1,
                REASON_MISSING: 2}
    if outliers == "exclude":
        expected[REASON_OUTLIER] = 1
    assert result.features.report.dropped == expected
    assert result.segmentation.labels.size == 90 - sum(expected.values())


def test_too_few_rows_left_is_a_segmentation_error():
    frame = planted(60, seed=1).astype({"Income": float})
    frame.loc[5:, "Income"] = np.nan
    data = frame.to_csv(sep="\t", index=False).encode()
    with pytest.raises(SegmentationError, match="too few"):
        run(data, RunConfig(k=3, prep=PrepConfig(missing="drop")))


def test_quoted_line_break_in_a_cell_is_one_row():
    frame = planted(90, seed=2)
    frame.loc[4, "Education"] = "Graduation\n(evening classes)"
    data = frame.to_csv(sep="\t", index=False).encode()
    result = run(data, CHEAP)
    assert result.features.report.rows_read == 90
    assert result.segmentation.labels.size == 90
