"""The typed dataset stage: ids, row accounting, typed columns, role overrides, robustness."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from segmentation.data.customer_file import RawTable, read_table
from segmentation.data.dataset import (
    REASON_DUPLICATE_ID,
    REASON_MALFORMED,
    REASON_MISSING_ID,
    load_dataset,
)
from segmentation.data.roles import NEVER_CLUSTERED, NUMERIC_ROLES
from segmentation.errors import SegmentationError
from segmentation.prepare.variables import catalogue
from tests.helpers import assert_actionable, planted_customers, to_tsv_bytes

SMALL = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DELIMITERS = [",", "\t", ";", "|"]




def load(data: bytes, **kwargs):
    return load_dataset(read_table(data), **kwargs)


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


def sources(roles: dict[str, str]) -> set[str]:
    return {col for var in catalogue(roles).values() for col in var.sources}


# --- the Kaggle-shaped files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dataset(sample_bytes):
    return load_dataset(read_table(sample_bytes))


@pytest.fixture(scope="module")
def real_dataset(real_path):
    return load_dataset(read_table(real_path))


@pytest.fixture(scope="module")
def real_oracle(real_path):
    return pd.read_csv(real_path, sep="\t", dtype={"ID": str})


@pytest.mark.realdata
def test_real_export_loads_into_2240_customers(real_dataset, real_oracle):
    ds = real_dataset
    assert ds.rows_read == 2240
    assert ds.n_customers == 2240
    assert ds.dropped == {}
    assert ds.id_column == "ID"
    assert ds.frame.index.tolist() == real_oracle["ID"].tolist()
    assert ds.frame.index.is_unique
    # the README's facts
    assert ds.frame["Income"].isna().sum() == 24
    assert ds.frame["Income"].max() == 666666
    assert int(ds.frame["Response"].sum()) == 334
    assert set(ds.frame["Year_Birth"][ds.frame["Year_Birth"] < 1901]) == {1893, 1899, 1900}
    counts = ds.frame["Marital_Status"].value_counts()
    assert (counts["Alone"], counts["Absurd"], counts["YOLO"]) == (3, 2, 2)
    assert ds.frame["Dt_Customer"].min() == pd.Timestamp(2012, 7, 30)
    assert ds.frame["Dt_Customer"].max() == pd.Timestamp(2014, 6, 29)
    assert ds.roles["Z_CostContact"] == ds.roles["Z_Revenue"] == "constant"
    assert set(ds.excluded_columns) == {"Z_CostContact", "Z_Revenue"}


@pytest.mark.realdata
def test_real_export_numbers_match_an_independent_read(real_dataset, real_oracle):
    ds = real_dataset
    numeric = [c for c, r in ds.roles.items() if r in NUMERIC_ROLES]
    assert len(numeric) == 23  # 29 columns less ID, Education, Marital_Status, Dt_Customer, Z_*
    assert ds.unparseable == {}
    for col in numeric:
        np.testing.assert_array_equal(
            ds.frame[col].to_numpy(), real_oracle[col].astype(float).to_numpy(), err_msg=col
        )
    dates = pd.to_datetime(real_oracle["Dt_Customer"], format="%d-%m-%Y")
    assert (ds.frame["Dt_Customer"].to_numpy() == dates.to_numpy()).all()


def test_sample_columns_are_typed_by_role(sample_dataset):
    ds = sample_dataset
    assert ds.n_customers == 2240
    assert ds.frame.index.name == "customer_id"
    assert all(isinstance(i, str) for i in ds.frame.index[:50])
    assert "ID" not in ds.frame.columns
    assert not {"Z_CostContact", "Z_Revenue"} & set(ds.frame.columns)
    for col, role in ds.roles.items():
        if role in NUMERIC_ROLES:
            assert ds.frame[col].dtype == np.float64, col
    assert pd.api.types.is_datetime64_any_dtype(ds.frame["Dt_Customer"])
    assert ds.frame["Education"].dtype == object
    assert ds.frame["Income"].isna().sum() == 24  # as the sample's README says


def test_planted_table_round_trips_through_tsv():
    planted = planted_customers(n=60, seed=1)
    ds = load(to_tsv_bytes(planted))
    assert ds.frame.index.tolist() == planted["ID"].tolist()
    for col in ["Year_Birth", "Income", "Kidhome", "MntWines", "NumWebPurchases", "Response"]:
        np.testing.assert_array_equal(ds.frame[col].to_numpy(), planted[col].to_numpy(float))
    # written day-first by the fixture; must come back as the same days
    expected = pd.to_datetime(planted["Dt_Customer"], format="%d-%m-%Y")
    assert (ds.frame["Dt_Customer"].to_numpy() == expected.to_numpy()).all()
    assert ds.roles["Z_CostContact"] == "constant"


# --- ids ------------------------------------------------------------------------------------------


def test_ids_are_text_and_keep_leading_zeros():
    ds = load(csv_bytes("customer_id,income", "007,10", "7,20", "0007,30", " 0042 ,40"))
    assert ds.frame.index.tolist() == ["007", "7", "0007", "0042"]
    assert ds.frame["income"].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert ds.dropped == {}


def test_duplicate_ids_keep_the_first_row():
    ds = load(csv_bytes("id,spend", "A1,1", "A2,2", "A1,3", "A3,4", "A2,5", "A1,6"))
    assert ds.frame.index.tolist() == ["A1", "A2", "A3"]
    assert ds.frame["spend"].tolist() == [1.0, 2.0, 4.0]
    assert ds.dropped == {REASON_DUPLICATE_ID: 3}
    assert sorted(ds.duplicate_ids) == ["A1", "A1", "A2"]
    assert ds.rows_read == 6


def test_missing_ids_are_dropped_and_counted():
    ds = load(csv_bytes("id,spend", "A1,1", ",2", "NA,3", "A2,4"))
    assert ds.frame.index.tolist() == ["A1", "A2"]
    assert ds.dropped == {REASON_MISSING_ID: 2}


def test_malformed_lines_are_counted_under_their_reason():
    ds = load(csv_bytes("id,spend", "A1,1", "A2,2,oops", "A3,3", "A4", "A1,9"))
    assert ds.malformed_lines == (3, 5)
    assert ds.rows_read == 5
    assert ds.dropped == {REASON_MALFORMED: 2, REASON_DUPLICATE_ID: 1}
    assert ds.frame.index.tolist() == ["A1", "A3"]
    assert ds.rows_read == ds.n_customers + sum(ds.dropped.values())


def test_float_ids_from_typed_files_lose_the_point_zero():
    frame = pd.DataFrame({"ID": [5524.0, 2174.0, np.nan], "Income": [1.0, 2.0, 3.0]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    ds = load(buffer.getvalue())
    assert ds.frame.index.tolist() == ["5524", "2174"]
    assert ds.dropped == {REASON_MISSING_ID: 1}


def test_without_an_id_column_ids_come_from_line_numbers():
    ds = load(csv_bytes("income,spend", "10,1", "20,2", "30,3"))
    assert ds.id_column is None
    assert ds.frame.index.tolist() == ["row_2", "row_3", "row_4"]
    assert any("id" in note for note in ds.notes)


def test_made_up_ids_follow_file_lines_after_a_malformed_line():
    ds = load(csv_bytes("income,spend", "10,1", "20,2,extra", "30,3"))
    assert ds.malformed_lines == (3,)
    assert ds.frame.index.tolist() == ["row_2", "row_4"]


def test_id_column_can_be_chosen():
    ds = load(csv_bytes("customer_id,income,code", "1,10,X1", "2,20,X2", "3,30,X1"),
              id_column="code")
    assert ds.id_column == "code"
    assert ds.frame.index.tolist() == ["X1", "X2"]
    assert ds.dropped == {REASON_DUPLICATE_ID: 1}


def test_unknown_id_column_is_a_clear_error():
    with pytest.raises(SegmentationError) as info:
        load(csv_bytes("id,income", "1,10", "2,20"), id_column="Customer")
    assert "'Customer'" in str(info.value)
    assert_actionable(str(info.value))


# --- typed values -----------------------------------------------------------------------------


def test_formatted_numbers_become_floats_and_bad_ones_are_counted():
    # 28 of 29 present incomes and 29 of 30 spends are numbers: over the 95% a numeric role needs
    rows = [f'{i},"${50000 + 1000 * i:,}.00",{10 * i}' for i in range(30)]
    rows[1] = "1,unknown,10"
    rows[2] = '2,"$52,000.00",x'
    rows[3] = "3,N/A,30"
    ds = load(csv_bytes("id,Income,MntWines", *rows))
    assert ds.roles["Income"] == "income" and ds.roles["MntWines"] == "spend"
    assert ds.frame["Income"].iloc[0] == 50000.0
    assert ds.frame["Income"].iloc[2] == 52000.0
    assert ds.frame["Income"].iloc[[1, 3]].isna().all()
    assert np.isnan(ds.frame["MntWines"].iloc[2])
    assert ds.frame["MntWines"].iloc[29] == 290.0
    # N/A is a missing marker; "unknown" and "x" are values that are not numbers
    assert ds.unparseable == {"Income": 1, "MntWines": 1}


def test_decimal_comma_file_gives_the_same_numbers():
    ds = load(csv_bytes("id;Income;MntWines", "1;58.138,00 €;12,5", "2;46.344,50 €;3,25"))
    assert ds.frame["Income"].tolist() == [58138.0, 46344.5]
    assert ds.frame["MntWines"].tolist() == [12.5, 3.25]


def test_day_first_signup_dates():
    ds = load(csv_bytes("id,Income,Dt_Customer", "1,10,04-09-2012", "2,20,08-03-2014",
                        "3,30,13-01-2013"))
    assert ds.roles["Dt_Customer"] == "signup_date"
    assert ds.frame["Dt_Customer"].tolist() == [
        pd.Timestamp(2012, 9, 4), pd.Timestamp(2014, 3, 8), pd.Timestamp(2013, 1, 13)
    ]


def test_month_first_signup_dates_when_a_day_exceeds_12():
    ds = load(csv_bytes("id,Income,signup_date", "1,10,04-09-2012", "2,20,12-25-2013",
                        "3,30,01-02-2014"))
    assert ds.frame["signup_date"].tolist() == [
        pd.Timestamp(2012, 4, 9), pd.Timestamp(2013, 12, 25), pd.Timestamp(2014, 1, 2)
    ]


def test_excel_date_cells_are_signup_dates():
    frame = pd.DataFrame({
        "ID": ["007", "008", "009"],
        "Income": [58138, 46344, 71613],
        "Dt_Customer": pd.to_datetime(["2012-09-04", "2014-03-08", "2013-08-21"]),
    })
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    ds = load(buffer.getvalue())
    assert ds.roles["Dt_Customer"] == "signup_date"
    assert ds.frame["Dt_Customer"].tolist() == frame["Dt_Customer"].tolist()


def test_excel_upload_keeps_text_ids():
    frame = pd.DataFrame({"ID": ["007", "0042", "5524"], "Income": [1.0, 2.0, 3.0]})
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    ds = load(buffer.getvalue())
    assert ds.frame.index.tolist() == ["007", "0042", "5524"]
    assert ds.frame["Income"].tolist() == [1.0, 2.0, 3.0]


# --- role overrides ---------------------------------------------------------------------------

OVERRIDE_CSV = csv_bytes(
    "ID,Income,Kidhome,MntWines,MntMeatProducts,City",
    "1,50000,0,100,40,Leeds",
    "2,60000,1,200,30,York",
    "3,70000,2,300,20,Leeds",
)


def test_detected_roles_without_overrides():
    ds = load(OVERRIDE_CSV)
    assert ds.roles == {"ID": "id", "Income": "income", "Kidhome": "children",
                        "MntWines": "spend", "MntMeatProducts": "spend", "City": "category"}


def test_role_overrides_take_effect():
    ds = load(OVERRIDE_CSV, roles={"Income": "ignore", "Kidhome": "other_numeric",
                                   "City": "text", "MntMeatProducts": "spend"})
    assert ds.roles["Income"] == "ignore"
    assert ds.roles["Kidhome"] == "other_numeric"
    assert ds.roles["City"] == "text"
    assert ds.roles["MntWines"] == "spend"  # not named: keeps its detected role
    assert "Income" not in ds.frame.columns and "City" not in ds.frame.columns
    assert ds.excluded_columns["Income"] == "ignored"
    assert ds.excluded_columns["City"] == "free text"
    variables = catalogue(ds.roles)
    assert "Income" not in variables
    assert variables["Kidhome"].kind == "other"
    assert "children" not in variables


def test_override_can_make_text_a_category():
    ds = load(OVERRIDE_CSV, roles={"Kidhome": "category"})
    assert ds.frame["Kidhome"].tolist() == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("roles", "word"),
    [({"Salary": "income"}, "'Salary'"), ({"Income": "wealth"}, "'wealth'")],
    ids=["unknown-column", "unknown-role"],
)
def test_bad_overrides_are_clear_errors(roles, word):
    with pytest.raises(SegmentationError) as info:
        load(OVERRIDE_CSV, roles=roles)
    assert word in str(info.value)
    assert_actionable(str(info.value))


# --- never clustered ----------------------------------------------------------------------------


def _with_extras() -> bytes:
    frame = planted_customers(n=90, seed=2)
    frame["Notes"] = [f"Called on day {i} about order {1000 + i}" for i in range(len(frame))]
    frame["Country"] = "UK"
    frame["Z_Revenue"] = 11
    frame["account_id"] = [f"AC{i:04d}" for i in range(len(frame))]
    return to_tsv_bytes(frame)


def test_ids_constants_and_free_text_are_never_clustering_candidates():
    ds = load(_with_extras())
    assert ds.roles["ID"] == "id"
    assert ds.roles["account_id"] == "id"
    assert ds.roles["Notes"] == "text"
    assert ds.roles["Country"] == ds.roles["Z_Revenue"] == ds.roles["Z_CostContact"] == "constant"
    never = {"ID", "account_id", "Notes", "Country", "Z_Revenue", "Z_CostContact"}
    assert set(ds.excluded_columns) == never - {"ID"}
    assert not never & sources(ds.roles)
    assert not never & set(ds.frame.columns)
    assert "MntWines" in sources(ds.roles)  # the catalogue is not simply empty


def test_overridden_to_never_clustered_roles_leave_the_catalogue():
    roles = {"Income": "text", "MntWines": "constant", "Recency": "ignore", "Kidhome": "id"}
    ds = load(_with_extras(), roles=roles)
    assert not set(roles) & sources(ds.roles)
    assert all(ds.roles[c] in NEVER_CLUSTERED for c in roles)


def test_choosing_the_id_column_keeps_other_ids_out_of_the_catalogue():
    ds = load(_with_extras(), id_column="ID")
    assert ds.roles["account_id"] in NEVER_CLUSTERED
    assert "account_id" not in sources(ds.roles)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes("customer_id,name,city", "1,Ann,Leeds", "2,Bob,York"),
        # rows that differ, but only in text (rows that do not differ: see test_reading_hostile)
        csv_bytes("id,Income,Z_Revenue,city", "1,5,11,Leeds", "2,5,11,York"),
        csv_bytes("id name income", "1 Ann 10", "2 Bob 20"),
    ],
    ids=["only-text", "constants-and-text", "unsplit-spaces"],
)
def test_no_numeric_column_is_a_clear_error(data):
    with pytest.raises(SegmentationError) as info:
        load_dataset(read_table(data, name="crm.csv"))
    assert "no numeric column" in str(info.value)
    assert "crm.csv" in str(info.value)
    assert_actionable(str(info.value))


# --- properties ---------------------------------------------------------------------------------


@st.composite
def messy_tables(draw):
    """Delimited text with malformed lines, blank lines, missing and repeated ids.

    Returns the bytes and what a reader must find, worked out line by line.
    """
    d = draw(st.sampled_from(DELIMITERS))
    lines = [d.join(["customer_id", "income", "visits"])]
    malformed, good = [], []  # good: (id or None, income)
    n = draw(st.integers(2, 25))
    for i in range(n):
        kind = "ok" if i < 2 else draw(st.sampled_from(["ok", "ok", "ok", "short", "long", "blank"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", "   "])))
            continue
        cid = f"first{i}" if i < 2 else draw(st.sampled_from(["007", "7", "A1", "a1", "0042", ""]))
        income = str(1000 + i)
        visits = str(draw(st.integers(0, 9)))
        fields = {"ok": [cid, income, visits], "short": [cid, income],
                  "long": [cid, income, visits, "x"]}[kind]
        lines.append(d.join(fields))
        if kind == "ok":
            good.append((cid or None, float(income)))
        else:
            malformed.append(len(lines))  # 1-based line number of the line just added
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return (ending.join(lines) + ending).encode(), malformed, good


@settings(max_examples=30, deadline=None)
@given(messy_tables())
def test_every_row_read_is_kept_or_dropped_for_a_reason(case):
    data, malformed, good = case
    raw = read_table(data)
    before = raw.frame.copy(deep=True)
    ds = load_dataset(raw)

    assert raw.malformed_lines == tuple(malformed)
    assert ds.rows_read == len(malformed) + len(good)
    assert ds.rows_read == len(ds.frame) + sum(ds.dropped.values())

    first: dict[str, float] = {}
    missing = duplicates = 0
    for cid, income in good:
        if cid is None:
            missing += 1
        elif cid in first:
            duplicates += 1
        else:
            first[cid] = income
    expected = {REASON_MALFORMED: len(malformed), REASON_MISSING_ID: missing,
                REASON_DUPLICATE_ID: duplicates}
    assert ds.dropped == {k: v for k, v in expected.items() if v}
    assert ds.frame.index.tolist() == list(first)
    assert ds.frame["income"].tolist() == list(first.values())
    pd.testing.assert_frame_equal(raw.frame, before)  # the input is not mutated


_cell_text = st.text(alphabet=st.sampled_from(list("abXY09 ,;|\t'\"-.éü€$")), max_size=8)
_income = st.one_of(
    st.integers(0, 10**7).map(str),
    st.integers(0, 10**7).map(lambda v: f"${v:,}.00"),
    st.sampled_from(["", "NA", "?", "n/a"]),
)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["007", "7", "A1", "0042", "B 2"]), _income, _cell_text),
        min_size=1,
        max_size=15,
    )
)
def test_reading_does_not_depend_on_the_delimiter(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "Income", "note"])
    reference = read_table(frame.to_csv(index=False).encode())
    assert reference.delimiter == ","
    assert reference.rows_read == len(rows)
    for d in DELIMITERS[1:]:
        raw = read_table(frame.to_csv(sep=d, index=False).encode())
        assert raw.delimiter == d
        # load_dataset sees nothing else of a text table, so equal tables load alike
        pd.testing.assert_frame_equal(raw.frame, reference.frame)
        assert (raw.rows_read, raw.malformed_lines, raw.decimal) == (
            reference.rows_read, reference.malformed_lines, reference.decimal)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["007", "A1", None, "5524"]),
            st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
            st.sampled_from(["$58,138.00", "12", "n/a", None, "04-09-2012"]),
            st.sampled_from(["PhD", "Basic", None]),
        ),
        min_size=2,
        max_size=12,
    ),
    st.sampled_from([None, {"Education": "text"}, {"MntWines": "ignore"}, {"Income": "spend"}]),
)
def test_load_dataset_does_not_change_the_raw_frame(rows, roles):
    frame = pd.DataFrame(rows, columns=["ID", "Income", "MntWines", "Education"]).astype(
        {"ID": object, "MntWines": object, "Education": object}
    )
    frame["Recency"] = np.arange(len(frame), dtype=float)  # always one usable number
    raw = RawTable(frame=frame, rows_read=len(frame))
    before = frame.copy(deep=True)
    ds = load_dataset(raw, roles=roles)
    pd.testing.assert_frame_equal(raw.frame, before)
    assert ds.rows_read == len(ds.frame) + sum(ds.dropped.values())


# --- nothing but SegmentationError --------------------------------------------------------------


def _read_and_load(data: bytes) -> str:
    """Load the bytes; return how it went, failing on anything but a SegmentationError."""
    try:
        ds = load_dataset(read_table(data))
    except SegmentationError as exc:
        assert_actionable(str(exc))
        return "SegmentationError"
    assert ds.rows_read == len(ds.frame) + sum(ds.dropped.values())
    return "loaded"


@SMALL
@given(st.binary(max_size=400))
@example(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
@example(b"id,income\n1,2\n")
def test_arbitrary_bytes_load_or_raise_segmentation_error(data):
    event(_read_and_load(data))


@SMALL
@given(st.text(max_size=300))
def test_arbitrary_text_loads_or_raises_segmentation_error(text):
    event(_read_and_load(text.encode("utf-8")))


_TOKENS = ["", " ", "NA", "?", "-", "0", "1", "3", "007", "12,5", "1.234,50", "$58,138.00",
           "04-09-2012", "07-30-2013", "2013-01-05", "PhD", "Single", "x y", "€", "1e5", "-3"]
_NAMES = ["ID", "Income", "MntWines", "Dt_Customer", "Education", "Z_Revenue", "notes", "Recency"]


@st.composite
def table_like_text(draw):
    """A header and rows of typical cell values, some rows with a field too many or too few."""
    d = draw(st.sampled_from(DELIMITERS))
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5, unique=True))
    lines = [d.join(names)]
    for _ in range(draw(st.integers(0, 15))):
        width = max(len(names) + draw(st.sampled_from([0, 0, 0, 0, 0, -1, 1])), 0)
        lines.append(d.join(draw(st.lists(st.sampled_from(_TOKENS), min_size=width,
                                          max_size=width))))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join(lines) + ending


@settings(max_examples=30, deadline=None)
@given(table_like_text())
def test_table_like_text_loads_or_raises_segmentation_error(text):
    event(_read_and_load(text.encode("utf-8")))


@pytest.mark.parametrize(
    "data",
    [
        b'id,income\n1,"10\n2,20\n',
        b"id,income,,\n1,2,,\n3,4,,\n",
        b"\x0c;",
        b"id,income,signup_date\n1,10,04-09-2012\n2,20,31-12-9999\n3,30,01-01-2013\n",
        b"id,\"income\n" + b"x" * 200_000 + b"\n",
    ],
    ids=["open-quote", "trailing-delimiters", "form-feed-header", "year-9999", "huge-field"],
)
def test_awkward_inputs_load_or_raise_segmentation_error(data):
    assert _read_and_load(data) in {"loaded", "SegmentationError"}


def test_an_empty_column_is_said_to_have_no_values_not_one_value():
    data = csv_bytes("id,spend,notes,flag", *[f"{i},{i * 3},,x" for i in range(30)])
    ds = load_dataset(read_table(data))
    assert ds.excluded_columns["notes"] == "empty in every row"
    assert ds.excluded_columns["flag"] == "the same value ('x') in every row"
