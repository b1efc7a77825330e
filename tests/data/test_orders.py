"""Order logs: recognised, mapped, totalled per customer in DuckDB, every line accounted for; RFM."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import RunConfig, run
from segmentation.cli import main
from segmentation.cluster.rfm import CELLS, GRID, _cell_of, _quintile_scores, _rfm_table, crosstab
from segmentation.data.customer_file import read_table
from segmentation.data.orders import (
    REASON_DUPLICATE,
    REASON_NO_CUSTOMER,
    REASON_ZERO_PRICE,
    aggregate_log,
    detect_mapping,
    looks_like_log,
    read_customers,
)
from segmentation.errors import SegmentationError
from tests.describe.test_personas import check_names_are_earned
from tests.helpers import assert_actionable
from tests.helpers.logs import monthly_files, order_log, tiny_log, to_bytes

# Runs at a given K: what is checked rests on the segments at that K, which the sweep around
# it and its split-half agreement do not change, so the command line sweeps that K alone.
AT_K4 = ["--k", "4", "--k-min", "4", "--k-max", "4"]
COLUMNS = {"frequency": "orders", "monetary": "net_spend", "tenure_days": "days_since_first_order"}


@pytest.fixture(scope="module")
def big():
    frame = order_log()
    return frame, aggregate_log(read_table(to_bytes(frame)))


def test_tiny_log_matches_the_hand_computed_figures():
    frame = tiny_log()
    log = aggregate_log(read_table(to_bytes(frame)))
    table = log.customers.set_index("customer_id")
    for customer, expected in frame.attrs["expected"].items():
        for name, value in expected.items():
            assert table.loc[customer, COLUMNS.get(name, name)] == pytest.approx(value), (
                customer, name)
    assert log.dropped == {REASON_NO_CUSTOMER: 1, REASON_DUPLICATE: 1, REASON_ZERO_PRICE: 1}
    assert log.lines_read == frame.attrs["lines"]
    assert log.reference_date == frame.attrs["reference"]


def test_every_line_is_aggregated_or_counted(big):
    frame, log = big
    assert log.lines_read == len(frame)
    assert log.lines_aggregated + sum(log.dropped.values()) == log.lines_read
    no_id = frame["CustomerID"] == ""
    assert log.dropped[REASON_NO_CUSTOMER] == no_id.sum()
    assert log.dropped[REASON_DUPLICATE] == frame[~no_id].duplicated().sum()
    zero = (frame["UnitPrice"] == 0) & ~no_id & ~frame.duplicated()
    assert log.dropped[REASON_ZERO_PRICE] == zero.sum()
    assert log.return_lines == frame["InvoiceNo"].str.startswith("C").sum()
    guests = frame[no_id]
    assert log.missing_id_revenue == pytest.approx((guests["Quantity"] * guests["UnitPrice"]).sum())
    assert len(log.customers) == frame.loc[~no_id, "CustomerID"].nunique()


def test_net_spend_and_orders_equal_pandas(big):
    frame, log = big
    lines = frame[(frame["CustomerID"] != "") & (frame["UnitPrice"] > 0)].drop_duplicates()
    spend = (lines["Quantity"] * lines["UnitPrice"]).groupby(lines["CustomerID"]).sum()
    buying = lines[~lines["InvoiceNo"].str.startswith("C")]
    orders = buying.groupby("CustomerID")["InvoiceNo"].nunique()
    table = log.customers.set_index("customer_id")
    np.testing.assert_allclose(table.loc[spend.index, "net_spend"], spend, rtol=1e-9)
    np.testing.assert_array_equal(table.loc[orders.index, "orders"], orders)


def test_the_log_is_recognised_and_mapped():
    frame = order_log(n_customers=100)
    raw = read_table(to_bytes(frame))
    mapping = detect_mapping(raw.frame)
    assert mapping == {"customer": "CustomerID", "date": "InvoiceDate", "order": "InvoiceNo",
                       "quantity": "Quantity", "price": "UnitPrice", "product": "StockCode",
                       "category": "Category", "channel": "Channel", "country": "Country"}
    why = looks_like_log(raw.frame)
    assert why and "log of order lines" in why
    customers = read_customers(to_bytes(frame))
    assert customers.log is not None and customers.frame["customer_id"].is_unique


def test_a_customer_table_with_a_few_repeated_ids_is_not_a_log(sample_bytes):
    assert looks_like_log(read_table(sample_bytes).frame) is None


def test_planted_customer_types_are_recovered(big):
    frame, _ = big
    result = run(to_bytes(frame), RunConfig(k=4))
    truth = [frame.attrs["planted"][c] for c in result.segmentation.customer_ids]
    assert adjusted_rand_score(truth, result.segmentation.labels) >= 0.8
    assert set(result.features.preparation.log_features) == {"orders", "net_spend"}
    assert result.features.features[:4] == ("recency_days", "orders", "net_spend",
                                             "avg_order_value")
    check_names_are_earned(result.features, result.segmentation, result.personas)
    lapsed_ids = [c for c, t in frame.attrs["planted"].items() if t == "lapsed"]
    labels = pd.Series(result.segmentation.labels, index=result.segmentation.customer_ids)
    lapsed_segment = labels[lapsed_ids].mode()[0]
    assert "Lapsed" in result.personas[lapsed_segment].name


@pytest.mark.parametrize(("fmt", "note"), [
    ("%d/%m/%Y %H:%M", "day first"), ("%m/%d/%Y %H:%M", "month first"),
    ("%Y-%m-%d", "ISO"),
])
def test_dates_in_common_formats_are_read_and_the_order_stated(fmt, note):
    frame = tiny_log()
    reference = pd.to_datetime(frame["InvoiceDate"])
    frame["InvoiceDate"] = reference.dt.strftime(fmt)
    log = aggregate_log(read_table(to_bytes(frame)))
    assert any(note in n for n in log.notes), log.notes
    expected = tiny_log().attrs["expected"]
    table = log.customers.set_index("customer_id")
    for customer, values in expected.items():
        assert table.loc[customer, "recency_days"] == values["recency_days"]


def test_ambiguous_day_and_month_are_read_day_first_and_said():
    rows = [{"customer": f"c{i % 30}", "date": f"0{1 + i % 9}/0{1 + i % 8}/2024",
             "amount": "10.5"} for i in range(120)]
    log = aggregate_log(pd.DataFrame(rows))
    assert any("could be day or month first" in n and "day first" in n for n in log.notes)


def test_amount_only_logs_net_returns():
    rows = []
    for i in range(60):
        rows.append({"customer": f"c{i % 20}", "date": f"2024-01-{1 + i % 28:02d}",
                     "amount": "100" if i % 10 else "-40"})
    log = aggregate_log(pd.DataFrame(rows))
    table = log.customers.set_index("customer_id")
    frame = pd.DataFrame(rows).assign(amount=lambda d: d["amount"].astype(float))
    np.testing.assert_allclose(table["net_spend"], frame.groupby("customer")["amount"].sum()
                               .loc[table.index])
    assert log.return_lines == 6


def test_reference_date_moves_recency():
    frame = tiny_log()
    later = aggregate_log(read_table(to_bytes(frame)), reference_date="2024-12-20")
    table = later.customers.set_index("customer_id")
    for customer, values in frame.attrs["expected"].items():
        assert table.loc[customer, "recency_days"] == values["recency_days"] + 10


def test_several_monthly_files_read_as_one_log(tmp_path):
    paths = monthly_files(tmp_path)
    whole = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths])
    one = aggregate_log(read_table(whole.to_csv(index=False).encode()))
    folder = aggregate_log(tmp_path)
    pattern = aggregate_log(str(tmp_path / "orders_*.csv"))
    assert folder.lines_read == pattern.lines_read == len(whole)
    cols = ["customer_id", "orders", "net_spend", "recency_days"]
    for log in (folder, pattern):
        pd.testing.assert_frame_equal(
            log.customers[cols].sort_values("customer_id").reset_index(drop=True),
            one.customers[cols].sort_values("customer_id").reset_index(drop=True))


def test_a_bad_mapping_is_one_sentence():
    frame = tiny_log()
    raw = read_table(to_bytes(frame))
    with pytest.raises(SegmentationError) as info:
        aggregate_log(raw, {"customer": "Nope"})
    assert_actionable(str(info.value))
    with pytest.raises(SegmentationError) as info:
        aggregate_log(raw.frame[["CustomerID", "InvoiceDate"]])
    assert "amount" in str(info.value)
    assert_actionable(str(info.value))


# --- the command line ----------------------------------------------------------------------------

@pytest.mark.slow  # a whole command-line run
def test_cli_run_on_a_log(tmp_path, capsys):
    frame = order_log(n_customers=300)
    path = tmp_path / "orders.csv"
    path.write_bytes(to_bytes(frame, encoding="latin-1"))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), *AT_K4]) == 0
    capsys.readouterr()
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype={"customer_id": str})
    assert assignments["customer_id"].is_unique
    assert len(assignments) == frame.loc[frame["CustomerID"] != "", "CustomerID"].nunique()
    assert set(assignments["rfm_cell"]) <= set(CELLS)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    lines = summary["order_log"]
    assert lines["lines_read"] == len(frame)
    assert lines["lines_aggregated"] + sum(lines["lines_dropped"].values()) == len(frame)


@pytest.mark.slow  # a whole command-line run
def test_cli_aggregate_writes_the_customer_table(tmp_path, capsys):
    frame = tiny_log()
    path = tmp_path / "orders.csv"
    path.write_bytes(to_bytes(frame))
    for name in ("customers.csv", "customers.parquet"):
        assert main(["aggregate", str(path), "--out", str(tmp_path / name)]) == 0
    out = capsys.readouterr().out
    assert "16 lines read, 13 aggregated into 3 customers" in out
    table = pd.read_parquet(tmp_path / "customers.parquet").set_index("customer_id")
    assert table.loc["12347", "net_spend"] == pytest.approx(314.10)


@pytest.mark.parametrize("args", [
    ["--input-kind", "customers"], ["--map", "buyer=CustomerID"], ["--map", "customer"],
    ["--reference-date", "soon"],
])
def test_cli_bad_log_options_exit_2(tmp_path, capsys, args):
    path = tmp_path / "orders.csv"
    path.write_bytes(to_bytes(order_log(n_customers=60)))
    rc = main(["run", str(path), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: ") and "\n" not in err, err
    assert_actionable(err.removeprefix("error: "))


# --- RFM -----------------------------------------------------------------------------------------

def test_quintile_scores_by_hand():
    values = pd.Series([5, 1, 3, 3, 9, 7, 2, 8, 4, 6])
    # ranks 6 1 3 4 10 8 2 9 5 7 (the second 3 ranks after the first); score = ceil(rank / 2)
    assert _quintile_scores(values).tolist() == [3, 1, 2, 2, 5, 4, 1, 5, 3, 4]
    assert _quintile_scores(values, higher_is_better=False).tolist() == [3, 5, 4, 4, 1, 2, 5, 1, 3, 2]


def test_the_grid_names_every_score_pair_once():
    for r, f in itertools.product(range(1, 6), repeat=2):
        assert sum(r in rs and f in fs for _, rs, fs in GRID) == 1, (r, f)


@pytest.mark.parametrize(("r", "f", "cell"), [
    (5, 5, "Champions"), (5, 4, "Champions"), (4, 5, "Loyal"), (3, 4, "Loyal"),
    (5, 1, "New customers"), (4, 1, "Promising"), (5, 3, "Potential loyalists"),
    (3, 3, "Need attention"), (3, 1, "About to sleep"), (1, 5, "Cannot lose them"),
    (2, 4, "At risk"), (2, 1, "Hibernating"), (1, 1, "Lost"),
])
def test_textbook_cells(r, f, cell):
    assert _cell_of(r, f) == cell


def test_rfm_table_and_crosstab():
    rng = np.random.default_rng(0)
    n = 200
    rfm = _rfm_table(pd.Series(rng.integers(1, 365, n)), pd.Series(rng.integers(1, 30, n)),
                    pd.Series(rng.gamma(2, 100, n)))
    assert (rfm["r"].value_counts() == n // 5).all()
    recent = rfm.index[rfm["r"] == 5]
    labels = rng.integers(0, 3, n)
    table = crosstab(rfm, labels, {0: "A", 1: "B", 2: "C"})
    assert table.to_numpy().sum() == n and list(table.columns) == ["A", "B", "C"]
    assert set(rfm.loc[recent, "rfm_cell"]) <= {"Champions", "Potential loyalists",
                                                "New customers"}


def test_lapsed_is_earned_by_the_customers_own_rhythm():
    """Slow but regular buyers (a purchase every ~240 days, the last ~150 days ago) have a
    long recency but are not late; weekly buyers who stopped 200 days ago are."""
    rng = np.random.default_rng(5)
    end = pd.Timestamp("2024-12-31")
    rows, kinds = [], {}
    for c in range(240):
        kind = c % 3
        cid = f"k{c:03d}"
        kinds[cid] = kind
        if kind == 0:  # weekly, still buying
            days = np.arange(0, 720, 7) + rng.integers(0, 3)
        elif kind == 1:  # every ~240 days, last one ~150 days ago
            days = np.array([0, 240, 480]) + 90 + rng.integers(-10, 10)
        else:  # weekly, stopped ~200 days ago
            days = np.arange(0, 520, 7) + rng.integers(0, 3)
        for d in days:
            rows.append({"customer": cid, "date": (end - pd.Timedelta(days=729 - int(d)))
                         .strftime("%Y-%m-%d"), "amount": f"{rng.gamma(4, 10):.2f}"})
    frame = pd.DataFrame(rows)
    result = run(frame.to_csv(index=False).encode(), RunConfig(k=3, stability=False))
    labels = pd.Series(result.segmentation.labels, index=result.segmentation.customer_ids)
    name_of = {k: result.personas[labels[[c for c, t in kinds.items() if t == k]].mode()[0]].name
               for k in range(3)}
    assert "Lapsed" in name_of[2], name_of
    assert "Lapsed" not in name_of[1], name_of
    check_names_are_earned(result.features, result.segmentation, result.personas)


def test_a_log_without_order_ids_counts_days_as_orders():
    rows = [{"customer": f"c{i % 10}", "date": f"2024-03-{1 + i // 10:02d} 10:{i % 60:02d}",
             "amount": "12.5"} for i in range(100)]
    log = aggregate_log(pd.DataFrame(rows))
    assert (log.customers["orders"] == 10).all()
    assert (log.customers["recency_days"] == 1).all()


@pytest.mark.slow  # a command-line run with PyMC-Marketing fits and the report
def test_cli_lifetime_adds_figures_per_customer_and_segment(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(to_bytes(order_log(n_customers=300)))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), *AT_K4, "--lifetime",
                 "--report"]) == 0
    capsys.readouterr()
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "Customer lifetime per persona" in report
    assignments = pd.read_csv(tmp_path / "o" / "assignments.csv", dtype={"customer_id": str})
    assert assignments["p_alive"].between(0, 1).all()
    by_segment = pd.read_csv(tmp_path / "o" / "lifetime_segments.csv")
    assert by_segment["customers"].sum() == len(assignments)
    means = assignments.groupby("segment")["p_alive"].mean()
    np.testing.assert_allclose(by_segment.set_index("segment")["mean_p_alive"], means)
    lapsed = by_segment.loc[by_segment["persona"].str.contains("Lapsed"), "mean_p_alive"]
    assert len(lapsed) == 1 and lapsed.iloc[0] == by_segment["mean_p_alive"].min()


def test_cli_lifetime_on_a_customer_table_is_one_sentence(tmp_path, capsys, sample_path,
                                                          monkeypatch):
    import segmentation.pipeline

    def no_clustering(*args, **kwargs):
        raise AssertionError("the refusal must come before any clustering")

    # Refused right after reading: the whole pipeline used to run first.
    monkeypatch.setattr(segmentation.pipeline, "sweep_k", no_clustering)
    rc = main(["run", str(sample_path), "--out", str(tmp_path / "o"), "--k", "3", "--lifetime"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and err.startswith("error: --lifetime needs an order history")


def test_the_lifetime_history_made_in_duckdb_equals_rfm_summary(big):
    from segmentation.plan.lifetime import rfm_summary

    _, log = big
    expected = rfm_summary(log.orders[["customer_id", "date", "value"]],
                           pd.Timestamp(log.reference_date))
    got = log.history.loc[expected.index, expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_names=False, rtol=1e-9)
