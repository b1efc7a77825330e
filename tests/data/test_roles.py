"""Column roles from names and values; column-name helpers; date parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.data.customer_file import read_table
from segmentation.data.roles import (
    NEVER_CLUSTERED,
    NUMERIC_ROLES,
    Role,
    _normalise_name,
    _parse_dates,
    channel_name,
    detect_roles,
    spend_category,
)

# The role of every column of the Kaggle export, written out from the list.
KAGGLE_ROLES = {
    "ID": "id",
    "Year_Birth": "birth_year",
    "Education": "education",
    "Marital_Status": "marital_status",
    "Income": "income",
    "Kidhome": "children",
    "Teenhome": "children",
    "Dt_Customer": "signup_date",
    "Recency": "recency",
    "MntWines": "spend",
    "MntFruits": "spend",
    "MntMeatProducts": "spend",
    "MntFishProducts": "spend",
    "MntSweetProducts": "spend",
    "MntGoldProds": "spend",
    "NumDealsPurchases": "deal_purchases",
    "NumWebPurchases": "channel_purchases",
    "NumCatalogPurchases": "channel_purchases",
    "NumStorePurchases": "channel_purchases",
    "NumWebVisitsMonth": "web_visits",
    "AcceptedCmp3": "campaign_response",
    "AcceptedCmp4": "campaign_response",
    "AcceptedCmp5": "campaign_response",
    "AcceptedCmp1": "campaign_response",
    "AcceptedCmp2": "campaign_response",
    "Complain": "complaint",
    "Z_CostContact": "constant",
    "Z_Revenue": "constant",
    "Response": "campaign_response",
}


@pytest.fixture(scope="module")
def sample_raw(sample_bytes):
    return read_table(sample_bytes)


def test_kaggle_columns_get_their_roles(sample_raw):
    roles = detect_roles(sample_raw.frame, sample_raw.decimal)
    assert roles == KAGGLE_ROLES
    assert list(roles) == list(sample_raw.frame.columns)  # in column order


@pytest.mark.realdata
def test_real_kaggle_export_gets_the_same_roles(real_path):
    raw = read_table(real_path)
    assert detect_roles(raw.frame, raw.decimal) == KAGGLE_ROLES


def _other_spellings() -> pd.DataFrame:
    n = 8
    i = np.arange(n)
    return pd.DataFrame(
        {
            "customer_id": [f"{k:03d}" for k in i],
            "birth_year": [str(1950 + 5 * k) for k in i],
            "annual_income": [f"${30000 + 1000 * k:,}.00" for k in i],
            "number_of_children": [str(k % 3) for k in i],
            "marital_status": ["Married", "Single"] * 4,
            "education_level": ["PhD", "Basic", "Master", "Graduation"] * 2,
            "signup_date": [f"2013-0{1 + k % 9}-1{k}" for k in i],
            "days_since_last_purchase": [str(5 * k) for k in i],
            "wine_spend": [str(100 + k) for k in i],
            "meat_spend": [str(50 + 2 * k) for k in i],
            "web_orders": [str(k) for k in i],
            "store_purchases": [str(2 * k) for k in i],
            "site_visits": [str(k + 1) for k in i],
            "discount_orders": [str(k % 2) for k in i],
            "responded": [str(k % 2) for k in i],
            "complaints": [str(int(k == 3)) for k in i],
            "age": [str(20 + 3 * k) for k in i],
        }
    ).astype(object)


def test_other_spellings_get_their_roles():
    roles = detect_roles(_other_spellings())
    assert roles == {
        "customer_id": "id",
        "birth_year": "birth_year",
        "annual_income": "income",
        "number_of_children": "children",
        "marital_status": "marital_status",
        "education_level": "education",
        "signup_date": "signup_date",
        "days_since_last_purchase": "recency",
        "wine_spend": "spend",
        "meat_spend": "spend",
        "web_orders": "channel_purchases",
        "store_purchases": "channel_purchases",
        "site_visits": "web_visits",
        "discount_orders": "deal_purchases",
        "responded": "outcome",
        "complaints": "complaint",
        "age": "age",
    }


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("salary", "income"),
        ("yob", "birth_year"),
        ("CustomerID", "id"),
        ("client_id", "id"),
        ("Customer Number", "id"),
        ("registration_date", "signup_date"),
        ("customer_since", "signup_date"),
        ("recency_days", "recency"),
        ("TotalSpent", "spend"),
        ("catalogue_orders", "channel_purchases"),
        ("app_purchases", "channel_purchases"),
        ("NumWebVisitsMonth", "web_visits"),
        ("accepted_offer_2", "campaign_response"),
    ],
)
def test_role_from_name(name, role):
    if role == "signup_date":
        values = ["04-09-2012", "08-03-2014", "21-08-2013", "10-02-2014"]
    elif role == "campaign_response":  # a response is yes/no
        values = ["1", "0", "0", "1"]
    elif role == "id":
        values = ["A1", "A2", "A3", "A4"]
    else:
        values = ["1", "3", "0", "12"]
    assert detect_roles(pd.DataFrame({name: values}, dtype=object)) == {name: role}


def test_identifiers_are_ids_even_when_numeric():
    frame = pd.DataFrame({"ID": ["5524", "2174", "4141"], "x": ["1", "2", "3"]}, dtype=object)
    assert detect_roles(frame)["ID"] == "id"


@pytest.mark.parametrize(
    "values",
    [["3", "3", "3"], ["US", "US", np.nan], [np.nan, np.nan, np.nan], ["x", "x", "x"]],
    ids=["number", "text-with-gap", "all-missing", "text"],
)
def test_constant_columns_are_constant(values):
    frame = pd.DataFrame({"MntWines": values, "country": values}, dtype=object)
    assert detect_roles(frame) == {"MntWines": "constant", "country": "constant"}


def test_z_columns_are_constant_by_name():
    frame = pd.DataFrame({"Z_Revenue": ["11", "12", "13"]}, dtype=object)
    assert detect_roles(frame) == {"Z_Revenue": "constant"}


def test_free_text_and_categories():
    n = 60
    frame = pd.DataFrame(
        {
            "notes": [f"called on day {k}, asked about delivery" for k in range(n)],
            "city": ["Leeds", "York", "Bath", "Hull"] * (n // 4),
        },
        dtype=object,
    )
    assert detect_roles(frame) == {"notes": "text", "city": "category"}


def test_a_named_role_needs_matching_values():
    # Income written as words is not a number, so it cannot be the income role; education
    # written as numbers is a set of codes, not levels that can be read in order
    frame = pd.DataFrame(
        {"Income": ["high", "low", "mid", "low"], "Education": ["1", "2", "3", "5"]}, dtype=object
    )
    assert detect_roles(frame) == {"Income": "category", "Education": "category"}


def test_unnamed_numbers_are_other_numeric_and_decimal_comma_counts():
    frame = pd.DataFrame({"score": ["1,5", "2,25", "3,75"]}, dtype=object)
    assert detect_roles(frame, decimal=",") == {"score": "other_numeric"}
    # with a decimal point those are not numbers; three distinct labels make a category
    assert detect_roles(frame, decimal=".") == {"score": "category"}


def test_never_clustered_roles_are_not_numeric():
    assert {Role.ID, Role.CONSTANT, Role.TEXT, Role.IGNORE} == NEVER_CLUSTERED
    assert not NEVER_CLUSTERED & NUMERIC_ROLES


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["001", "002", "7", "", "x"]),
            st.sampled_from(["$1,200.00", "12", "n/a", "", "abc", "04-09-2012"]),
            st.sampled_from(["PhD", "Basic", "", "2013-01-01"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_detect_roles_does_not_change_the_frame(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "Income", "Education"], dtype=object)
    frame = frame.where(frame != "", np.nan)
    before = frame.copy(deep=True)
    detect_roles(frame)
    pd.testing.assert_frame_equal(frame, before)


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NumWebPurchases", "num_web_purchases"),
        ("MntWines", "mnt_wines"),
        ("Year_Birth", "year_birth"),
        ("ID", "id"),
        ("AcceptedCmp3", "accepted_cmp3"),
        ("Z_CostContact", "z_cost_contact"),
        ("customerID", "customer_id"),
        ("  Annual Income ($) ", "annual_income"),
        ("days-since last purchase", "days_since_last_purchase"),
    ],
)
def test_normalise_name(name, expected):
    assert _normalise_name(name) == expected


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("MntWines", "wine"),
        ("MntFruits", "fruit"),
        ("MntMeatProducts", "meat"),
        ("MntFishProducts", "fish"),
        ("MntSweetProducts", "sweets"),
        ("MntGoldProds", "gold"),
        ("wine_spend", "wine"),
        ("seafood_amount", "fish"),
        ("candy_sales", "sweets"),
        ("total_spend", None),
    ],
)
def test_spend_category(column, category):
    assert spend_category(column) == category


@pytest.mark.parametrize(
    ("column", "channel"),
    [
        ("NumWebPurchases", "web"),
        ("NumCatalogPurchases", "catalog"),
        ("NumStorePurchases", "store"),
        ("web_orders", "web"),
        ("online_purchases", "web"),
        ("catalogue_orders", "catalog"),
        ("mail_orders", "catalog"),
        ("in_store_purchases", "store"),
        ("mobile_orders", "app"),
        ("NumWebVisitsMonth", None),
        ("total_purchases", None),
    ],
)
def test_channel_name(column, channel):
    assert channel_name(column) == channel


# --- dates ----------------------------------------------------------------------------------------


def test_dd_mm_yyyy_is_day_first():
    out = _parse_dates(pd.Series(["04-09-2012", "08-03-2014", "30-07-2012"]))
    assert out.tolist() == [
        pd.Timestamp(2012, 9, 4), pd.Timestamp(2014, 3, 8), pd.Timestamp(2012, 7, 30)
    ]


@pytest.mark.parametrize("sep", ["-", "/", "."])
def test_day_first_with_any_separator(sep):
    out = _parse_dates(pd.Series([f"04{sep}09{sep}2012", f"11{sep}01{sep}2013"]))
    assert out.tolist() == [pd.Timestamp(2012, 9, 4), pd.Timestamp(2013, 1, 11)]


def test_month_first_when_a_second_field_exceeds_12():
    out = _parse_dates(pd.Series(["04-09-2012", "07-30-2012", "12/25/2013"]))
    assert out.tolist() == [
        pd.Timestamp(2012, 4, 9), pd.Timestamp(2012, 7, 30), pd.Timestamp(2013, 12, 25)
    ]


def test_iso_dates():
    out = _parse_dates(pd.Series(["2012-09-04", "2014-03-08"]))
    assert out.tolist() == [pd.Timestamp(2012, 9, 4), pd.Timestamp(2014, 3, 8)]


def test_unparseable_and_missing_dates_are_missing():
    out = _parse_dates(pd.Series(["04-09-2012", "31-02-2013", "soon", None, "11-01-2013"]))
    assert out.iloc[0] == pd.Timestamp(2012, 9, 4)
    assert out.iloc[4] == pd.Timestamp(2013, 1, 11)
    assert out.iloc[1:4].isna().all()


def test_datetimes_are_returned_as_they_are():
    series = pd.Series(pd.to_datetime(["2012-09-04", "2013-01-11"]))
    pd.testing.assert_series_equal(_parse_dates(series), series)


def test_iso_dates_with_some_missing_still_parse():
    series = pd.Series(["2013-01-05", None, "2013-02-10", "2013-03-15", None, "2014-06-29"] * 3)
    out = _parse_dates(series)
    assert out.notna().sum() == series.notna().sum()
    assert out.iloc[0] == pd.Timestamp(2013, 1, 5)


def test_far_future_placeholder_date_does_not_raise():
    out = _parse_dates(pd.Series(["04-09-2012", "31-12-9999", "11-01-2013"]))
    assert out.iloc[0] == pd.Timestamp(2012, 9, 4)
    assert out.iloc[2] == pd.Timestamp(2013, 1, 11)


def test_an_id_column_with_one_id_and_the_rest_blank_is_still_the_id_column():
    from segmentation import read_table
    from segmentation.data.dataset import load_dataset

    text = "ID\tIncome\tMntWines\n\t100\t5\n\t200\t7\nC9\t300\t9\n\t400\t11\n"
    dataset = load_dataset(read_table(text.encode()))
    assert dataset.meanings["ID"].role == "id"
    assert dataset.id_column == "ID"
    assert list(dataset.frame.index) == ["C9"]
    assert dataset.dropped["missing customer id"] == 3
    # the same value in every row is still a constant, whatever the name
    same = load_dataset(read_table(b"ID\tIncome\n1\t5\n1\t7\n1\t9\n"))
    assert same.meanings["ID"].role == "constant"


def test_words_without_digits_are_never_dates():
    # pandas reads "now" and "today" as the clock's date; a status column holding them is
    # text, and a column of words is settled without trying the date formats.
    out = _parse_dates(pd.Series(["now", "today", "Single", "Married", None, "now"]))
    assert out.isna().all()
    # One "today" among dates is a cell that is not a date, not the day the file was read.
    mixed = _parse_dates(pd.Series(["2013-01-05", "2014-06-29"] * 15 + ["today"]))
    assert mixed.iloc[:30].notna().all() and pd.isna(mixed.iloc[30])
