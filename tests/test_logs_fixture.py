"""The order-line log generators are deterministic, damaged as counted and carry their types."""

from __future__ import annotations

import inspect
import io
import re

import pandas as pd
import pytest

from tests.helpers.logs import (
    CATEGORIES,
    COLUMNS,
    MAX_LINES,
    TYPES,
    monthly_files,
    order_log,
    tiny_log,
    to_bytes,
)

DATE_FORMAT = "%d/%m/%Y %H:%M"


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return order_log()


def when(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["InvoiceDate"], format=DATE_FORMAT)


def is_cancellation(frame: pd.DataFrame) -> pd.Series:
    return frame["InvoiceNo"].str.startswith("C")


def days_before_end(frame: pd.DataFrame, dates: pd.Series) -> pd.Series:
    end = pd.Timestamp(frame.attrs["end"])
    return (end - dates.dt.normalize()).dt.days


def orders(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per customer's non-cancellation invoice: customer, invoice, date, value."""
    sales = frame[~is_cancellation(frame) & (frame["CustomerID"] != "")]
    sales = sales.assign(date=when(sales), value=sales["Quantity"] * sales["UnitPrice"])
    grouped = sales.groupby(["CustomerID", "InvoiceNo"], as_index=False)
    return grouped.agg(date=("date", "min"), value=("value", "sum"))


def of_type(frame: pd.DataFrame, table: pd.DataFrame, kind: str) -> pd.DataFrame:
    planted = frame.attrs["planted"]
    return table[table["CustomerID"].map(planted) == kind]


# order_log ---------------------------------------------------------------------------------


def test_order_log_is_deterministic():
    first, again = order_log(n_customers=120, seed=3), order_log(n_customers=120, seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs == again.attrs
    other = order_log(n_customers=120, seed=4)
    assert not first.equals(other)
    assert first.attrs["planted"] != other.attrs["planted"]


def test_columns_and_cells_look_like_an_export(log):
    assert tuple(log.columns) == COLUMNS
    assert log["InvoiceNo"].str.fullmatch(r"C?\d{6}").all()
    assert log["CustomerID"].str.fullmatch(r"(\d{5})?").all()
    assert log["InvoiceDate"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").all()
    assert log["StockCode"].str.fullmatch(r"\d{5}[A-Z]?").all()
    assert set(log["Category"]) == set(CATEGORIES)
    assert set(log["Channel"]) == {"online", "store"}
    assert 2 <= log["Country"].nunique() <= 6
    assert pd.api.types.is_integer_dtype(log["Quantity"])
    assert (log["Quantity"] != 0).all()
    assert (log["UnitPrice"] >= 0).all()
    assert (log["UnitPrice"] == log["UnitPrice"].round(2)).all()
    # Day first is provable: some days exceed 12.
    assert (log["InvoiceDate"].str[:2].astype(int) > 12).any()
    # A product code always has the same description and category.
    assert (log.groupby("StockCode")[["Description", "Category"]].nunique() == 1).all().all()


def test_log_spans_a_year_ending_on_end(log):
    dates = when(log).dt.normalize()
    assert dates.max() == pd.Timestamp("2024-12-31") == pd.Timestamp(log.attrs["end"])
    assert dates.min() == pd.Timestamp(log.attrs["start"])
    assert (dates.max() - dates.min()).days == 364
    shifted = order_log(n_customers=60, seed=1, end="2023-06-15")
    shifted_dates = when(shifted).dt.normalize()
    assert shifted_dates.max() == pd.Timestamp("2023-06-15")
    assert shifted.attrs["end"] == "2023-06-15"


def test_every_invoice_has_one_to_six_lines_one_date_and_one_customer(log):
    per_invoice = log.groupby("InvoiceNo").agg(
        lines=("StockCode", "size"), dates=("InvoiceDate", "nunique"),
        customers=("CustomerID", "nunique"), channels=("Channel", "nunique"))
    assert per_invoice["lines"].between(1, MAX_LINES).all()
    assert (per_invoice[["dates", "customers", "channels"]] == 1).all().all()
    numbers = log["InvoiceNo"].str.removeprefix("C").astype(int)
    assert numbers.is_monotonic_increasing
    assert when(log).is_monotonic_increasing


def test_planted_types_and_shares(log):
    planted = log.attrs["planted"]
    assert log.attrs["types"] == TYPES
    assert set(planted.values()) == set(TYPES)
    counts = pd.Series(planted).value_counts()
    assert counts.to_dict() == {"frequent loyal": 280, "lapsed": 200, "rare big-ticket": 160,
                                "new": 160}
    customers = set(log.loc[log["CustomerID"] != "", "CustomerID"])
    assert customers == set(planted)


def test_frequent_loyal_order_every_two_to_three_weeks(log):
    table = of_type(log, orders(log), "frequent loyal")
    per_customer = table.groupby("CustomerID")["date"]
    assert (per_customer.size() >= 12).all()
    gaps = per_customer.apply(lambda dates: dates.sort_values().diff().dt.days.median())
    assert gaps.between(14, 21).all()
    assert (days_before_end(log, per_customer.max()) <= 30).all()
    assert (days_before_end(log, per_customer.min()) >= 330).all()


def test_rare_big_ticket_orders_are_few_and_large(log):
    table = orders(log)
    big = of_type(log, table, "rare big-ticket")
    loyal = of_type(log, table, "frequent loyal")
    assert big.groupby("CustomerID").size().between(2, 4).all()
    assert big["value"].median() >= 3 * loyal["value"].median()
    for kind in ("lapsed", "new"):
        assert big["value"].median() >= 3 * of_type(log, table, kind)["value"].median()


def test_lapsed_stopped_half_a_year_ago(log):
    lines = log[log["CustomerID"].map(log.attrs["planted"]) == "lapsed"]
    last_line = lines.assign(date=when(lines)).groupby("CustomerID")["date"].max()
    assert (days_before_end(log, last_line) >= 180).all()
    per_customer = of_type(log, orders(log), "lapsed").groupby("CustomerID")["date"]
    assert (per_customer.size() >= 3).all()
    assert (days_before_end(log, per_customer.min()) >= 330).all()


def test_new_customers_started_in_the_last_two_months(log):
    per_customer = of_type(log, orders(log), "new").groupby("CustomerID")["date"]
    assert (days_before_end(log, per_customer.min()) <= 60).all()
    assert per_customer.size().between(1, 3).all()


def test_damage_counts_match_the_frame(log):
    attrs = log.attrs
    assert attrs["n_missing_id_lines"] == int((log["CustomerID"] == "").sum())
    assert attrs["n_cancellation_lines"] == int(is_cancellation(log).sum())
    assert attrs["n_duplicate_lines"] == int(log.duplicated().sum())
    assert attrs["n_zero_price_lines"] == int((log["UnitPrice"] == 0).sum())
    n = len(log)
    assert 0.15 <= attrs["n_missing_id_lines"] / n <= 0.25
    assert 0.002 <= attrs["n_duplicate_lines"] / n <= 0.008
    assert 0.001 <= attrs["n_zero_price_lines"] / n <= 0.005
    invoices = log.drop_duplicates("InvoiceNo")
    assert 0.01 <= is_cancellation(invoices).mean() <= 0.03


def test_damage_kinds_do_not_overlap(log):
    cancellation = is_cancellation(log)
    assert (log.loc[cancellation, "Quantity"] < 0).all()
    assert (log.loc[~cancellation, "Quantity"] > 0).all()
    assert (log.loc[cancellation, "CustomerID"] != "").all()
    assert (log.loc[cancellation, "UnitPrice"] > 0).all()
    copies = log[log.duplicated(keep=False)]
    assert not is_cancellation(copies).any()
    assert (copies["UnitPrice"] > 0).all()
    assert (copies["CustomerID"] != "").all()
    # Zero-price lines sit in orders that keep at least one paid line.
    free_invoices = set(log.loc[log["UnitPrice"] == 0, "InvoiceNo"])
    paid = log[log["InvoiceNo"].isin(free_invoices) & (log["UnitPrice"] > 0)]
    assert set(paid["InvoiceNo"]) == free_invoices


def test_cancellations_reverse_an_earlier_order_of_the_same_customer(log):
    dated = log.assign(date=when(log))
    cancels = dated[is_cancellation(dated)].reset_index(names="line")
    sales = dated[~is_cancellation(dated)]
    pairs = cancels.merge(sales, on=["CustomerID", "StockCode", "UnitPrice"],
                          suffixes=("", "_sale"))
    pairs = pairs[(pairs["date_sale"] < pairs["date"])
                  & (pairs["date"] - pairs["date_sale"] <= pd.Timedelta(days=8))
                  & (pairs["Quantity_sale"] >= -pairs["Quantity"])]
    # All lines of one C invoice reverse lines of one and the same earlier order.
    by_invoice = pairs.groupby(["InvoiceNo", "InvoiceNo_sale"])["line"].nunique()
    lines_per_cancel = cancels.groupby("InvoiceNo").size()
    best = by_invoice.groupby(level=0).max()
    assert best.reindex(lines_per_cancel.index).eq(lines_per_cancel).all()


def test_to_bytes_round_trips_with_separator_and_encoding():
    frame = order_log(n_customers=60, seed=2)
    raw = to_bytes(frame, sep=";", encoding="cp1252")
    assert raw.splitlines()[0] == ";".join(COLUMNS).encode("cp1252")
    assert "CAFÉ".encode("cp1252") in raw
    back = pd.read_csv(io.BytesIO(raw), sep=";", encoding="cp1252", dtype=str,
                       keep_default_na=False)
    text = frame.astype({"Quantity": str, "UnitPrice": str})
    pd.testing.assert_frame_equal(back, text, check_dtype=False)
    assert to_bytes(frame) == frame.to_csv(index=False).encode("utf-8")


def test_monthly_files(tmp_path):
    paths = monthly_files(tmp_path, seed=5)
    assert [path.name for path in paths] == [f"orders_2024_{m:02d}.csv" for m in range(1, 13)]
    assert all(path.parent == tmp_path for path in paths)
    headers = {path.read_text(encoding="utf-8").splitlines()[0] for path in paths}
    assert headers == {",".join(COLUMNS)}
    parts = []
    for month, path in enumerate(paths, start=1):
        part = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert (pd.to_datetime(part["InvoiceDate"], format=DATE_FORMAT).dt.month == month).all()
        parts.append(part)
    whole = order_log(n_customers=200, seed=5)
    combined = pd.concat(parts, ignore_index=True)
    assert len(combined) == len(whole)
    assert list(combined["InvoiceNo"]) == list(whole["InvoiceNo"])


# tiny_log ----------------------------------------------------------------------------------


def recompute(frame: pd.DataFrame) -> tuple[dict, dict]:
    """The tiny log's aggregates and drop counts, straight from the definitions."""
    lines = frame.assign(date=pd.to_datetime(frame["InvoiceDate"]).dt.normalize())
    reference = lines["date"].max() + pd.Timedelta(days=1)

    dropped = {}
    missing = lines["CustomerID"] == ""
    dropped["missing customer id"] = int(missing.sum())
    lines = lines[~missing]
    copies = lines.drop(columns="date").duplicated()
    dropped["exact duplicate line"] = int(copies.sum())
    lines = lines[~copies]
    bad_price = lines["UnitPrice"] <= 0
    dropped["zero or negative price"] = int(bad_price.sum())
    lines = lines[~bad_price]

    aggregates = {}
    for customer, group in lines.groupby("CustomerID"):
        cancellation = group["InvoiceNo"].str.startswith("C")
        bought = group[~cancellation]
        frequency = bought["InvoiceNo"].nunique()
        monetary = float((group["Quantity"] * group["UnitPrice"]).sum())
        positive = group[group["Quantity"] > 0]
        aggregates[customer] = {
            "recency_days": (reference - bought["date"].max()).days,
            "frequency": frequency,
            "monetary": monetary,
            "tenure_days": (reference - bought["date"].min()).days,
            "avg_order_value": monetary / frequency,
            "items_per_order": positive["Quantity"].sum() / frequency,
            "distinct_products": positive["StockCode"].nunique(),
            "return_rate": cancellation.sum() / len(group),
        }
    return aggregates, dropped


def test_tiny_log_shape():
    frame = tiny_log()
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == frame.attrs["lines"] == 16
    assert frame["InvoiceDate"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    assert sorted(set(frame["CustomerID"]) - {""}) == ["12346", "12347", "12348"]
    assert (frame["CustomerID"] == "").sum() == 1
    assert frame["InvoiceNo"].str.startswith("C").sum() == 1
    assert frame.duplicated().sum() == 1
    assert (frame["UnitPrice"] == 0).sum() == 1
    assert frame.attrs["reference"] == "2024-12-10"
    pd.testing.assert_frame_equal(frame, tiny_log())


def test_tiny_log_expected_numbers_match_a_recomputation():
    frame = tiny_log()
    aggregates, dropped = recompute(frame)
    expected = frame.attrs["expected"]
    assert dropped == frame.attrs["expected_dropped"]
    assert set(aggregates) == set(expected)
    for customer, numbers in expected.items():
        assert set(aggregates[customer]) == set(numbers)
        for name, value in numbers.items():
            assert aggregates[customer][name] == pytest.approx(value, abs=1e-9), (customer, name)


def test_tiny_log_expected_numbers_are_written_out():
    body = inspect.getsource(tiny_log)
    for numbers in tiny_log().attrs["expected"].values():
        for name, value in numbers.items():
            assert re.search(rf'"{name}": {re.escape(repr(value))}[,\s]', body) or (
                re.search(rf'"{name}": {value:.2f}', body)), name
