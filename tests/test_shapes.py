"""The non-Kaggle customer tables are deterministic, well-formed and really carry their groups."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, kruskal
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from tests.helpers.shapes import ALL_SHAPES, bank, retail_no_id, subscription, to_bytes, wholesale

NAMES = sorted(ALL_SHAPES)
SIZES = {"wholesale": 440, "bank": 1500, "subscription": 1200, "retail_no_id": 800}
COLUMNS = {
    "wholesale": ["Channel", "Region", "Fresh", "Milk", "Grocery", "Frozen",
                  "Detergents_Paper", "Delicassen"],
    "bank": ["age", "job", "marital", "education", "default", "balance", "housing", "loan",
             "contact", "day", "month", "duration", "campaign", "pdays", "previous",
             "poutcome", "y"],
    "subscription": ["user_id", "plan", "signup_date", "sessions_30d", "minutes_30d",
                     "features_used", "support_tickets", "monthly_fee", "country", "churned",
                     "signup_weekday"],
    "retail_no_id": ["customer_ref", "orders_12m", "avg_basket", "days_since_last_order",
                     "returns_12m", "newsletter", "store_pref"],
}


@pytest.fixture(scope="module", params=NAMES)
def shape(request):
    generator, sep = ALL_SHAPES[request.param]
    return request.param, generator(), sep


def numeric(series: pd.Series) -> np.ndarray:
    """Numbers from a column, reading money text such as "$1,234.50" or "£23.40"."""
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float)
    cleaned = series.astype(str).str.replace(r"[£$€,]", "", regex=True)
    return pd.to_numeric(cleaned).to_numpy(dtype=float)


def signal_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = numeric(frame[column])
    if column in frame.attrs["skewed"]:
        return np.sign(values) * np.log1p(np.abs(values))
    return values


def signal_matrix(frame: pd.DataFrame, with_categories: bool = False) -> np.ndarray:
    numbers = np.column_stack([signal_column(frame, c) for c in frame.attrs["signal"]])
    scaled = StandardScaler().fit_transform(numbers)
    if not with_categories or not frame.attrs["categorical_signal"]:
        return scaled
    dummies = pd.get_dummies(frame[list(frame.attrs["categorical_signal"])]).to_numpy(float)
    return np.column_stack([scaled, dummies])


def recovered_ari(frame: pd.DataFrame, with_categories: bool = False) -> float:
    planted = frame.attrs["planted"]
    k = len(np.unique(planted))
    found = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(
        signal_matrix(frame, with_categories))
    return adjusted_rand_score(planted, found)


def group_independent(values: pd.Series, planted: np.ndarray) -> float:
    """p-value of "no association with the planted group"."""
    if values.nunique() <= 40:
        table = pd.crosstab(values.to_numpy(), planted)
        return chi2_contingency(table).pvalue
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(float)
    else:  # identifiers like "u000123": compare their digits
        numbers = pd.to_numeric(values.str.replace(r"\D", "", regex=True)).to_numpy(float)
    return kruskal(*[numbers[planted == g] for g in np.unique(planted)]).pvalue


def test_same_seed_same_frame(shape):
    name, frame, _ = shape
    again = ALL_SHAPES[name][0]()
    pd.testing.assert_frame_equal(frame, again)
    np.testing.assert_array_equal(frame.attrs["planted"], again.attrs["planted"])
    other = ALL_SHAPES[name][0](seed=1)
    assert not frame.equals(other)


def test_columns_sizes_and_attrs(shape):
    name, frame, _ = shape
    assert list(frame.columns) == COLUMNS[name]
    assert len(frame) == SIZES[name]
    assert not frame.isna().any().any()
    attrs = frame.attrs
    for key in ("planted", "groups", "signal", "categorical_signal", "skewed", "noise",
                "outcomes"):
        assert key in attrs
    assert isinstance(attrs["planted"], np.ndarray)
    assert len(attrs["planted"]) == len(frame)
    assert len(attrs["groups"]) == len(np.unique(attrs["planted"]))
    for key in ("signal", "categorical_signal", "skewed", "noise", "outcomes"):
        assert isinstance(attrs[key], tuple)
        assert set(attrs[key]) <= set(frame.columns)
    assert set(attrs["skewed"]) <= set(attrs["signal"])
    assert set(attrs["outcomes"]) <= set(attrs["noise"])
    assert not set(attrs["noise"]) & (set(attrs["signal"]) | set(attrs["categorical_signal"]))


def test_unequal_groups_each_at_least_15_percent(shape):
    _, frame, _ = shape
    counts = np.bincount(frame.attrs["planted"])
    assert len(set(counts)) == len(counts)
    assert counts.min() >= 0.15 * len(frame)


def test_each_signal_column_separates_two_groups(shape):
    _, frame, _ = shape
    planted = frame.attrs["planted"]
    for column in frame.attrs["signal"]:
        values = signal_column(frame, column)
        stats = [(values[planted == g].mean(), values[planted == g].std())
                 for g in np.unique(planted)]
        gaps = [abs(ma - mb) / max(sa, sb)
                for (ma, sa), (mb, sb) in itertools.combinations(stats, 2)]
        assert max(gaps) >= 2.5, (column, gaps)


def test_kmeans_on_signal_recovers_groups(shape):
    _, frame, _ = shape
    assert recovered_ari(frame) >= 0.9


def test_noise_is_independent_of_groups_yet_tempting(shape):
    _, frame, _ = shape
    planted = frame.attrs["planted"]
    for column in frame.attrs["noise"]:
        values = frame[column]
        if column not in frame.attrs["outcomes"]:
            assert group_independent(values, planted) > 0.001, column
        if pd.api.types.is_numeric_dtype(values):
            assert values.nunique() <= 40 or values.std() > 50, column


def test_round_trip_through_bytes(shape):
    _, frame, sep = shape
    read = pd.read_csv(io.BytesIO(to_bytes(frame, sep)), sep=sep, dtype=str,
                       keep_default_na=False)
    assert list(read.columns) == list(frame.columns)
    assert len(read) == len(frame)
    for column in frame.columns:
        assert read[column].astype(str).tolist() == frame[column].astype(str).tolist(), column


def test_wholesale_has_no_id_or_income_and_codes_are_small():
    frame = wholesale()
    assert sorted(frame["Channel"].unique()) == [1, 2]
    assert sorted(frame["Region"].unique()) == [1, 2, 3]
    spend = frame[list(frame.attrs["signal"])]
    assert (spend.dtypes == np.int64).all()
    assert (spend > 0).all().all()
    assert (spend.mean() > spend.median()).all()  # right-skewed


def test_bank_profiles():
    frame = bank()
    planted = frame.attrs["planted"]
    ages = [frame["age"][planted == g].mean() for g in range(3)]
    assert min(abs(a - b) for a, b in itertools.combinations(ages, 2)) >= 15
    assert (frame["balance"] < 0).any()
    assert (frame["balance"] > 0).mean() > 0.9
    assert set(frame["job"]) <= {
        "admin.", "blue-collar", "technician", "services", "management", "retired", "student",
        "unemployed", "self-employed", "entrepreneur", "housemaid", "unknown"}
    assert set(frame["month"]) <= {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                   "sep", "oct", "nov", "dec"}
    assert frame["day"].between(1, 31).all()
    never = frame["pdays"] == -1
    assert 0.7 < never.mean() < 0.8
    assert (frame.loc[never, "previous"] == 0).all()
    assert (frame.loc[~never, "previous"] > 0).all()
    assert (frame.loc[never, "poutcome"] == "unknown").all()
    assert 0.08 < (frame["y"] == "yes").mean() < 0.16
    said_yes = frame["y"] == "yes"
    assert frame.loc[said_yes, "duration"].median() > 2 * frame.loc[~said_yes, "duration"].median()
    for column in frame.attrs["categorical_signal"]:
        table = pd.crosstab(frame[column].to_numpy(), planted)
        assert chi2_contingency(table).pvalue < 1e-10, column
    assert recovered_ari(frame, with_categories=True) >= 0.9
    assert b";" in to_bytes(frame, ";").splitlines()[0]


def test_subscription_fields():
    frame = subscription()
    planted = frame.attrs["planted"]
    assert frame["user_id"].is_unique
    assert frame["user_id"].str.fullmatch(r"u\d{6}").all()
    fee = {"free": "$0.00", "basic": "$9.99", "pro": "$19.99", "team": "$49.99"}
    assert (frame["plan"].map(fee) == frame["monthly_fee"]).all()
    dates = pd.to_datetime(frame["signup_date"], format="%Y-%m-%d")
    assert (dates.dt.strftime("%a") == frame["signup_weekday"]).all()
    sessions = [frame["sessions_30d"][planted == g].mean() for g in range(3)]
    assert sessions[0] > sessions[1] > sessions[2]
    assert sessions[2] < 2
    churn = [frame["churned"][planted == g].mean() for g in range(3)]
    assert churn[2] > 2 * max(churn[0], churn[1])
    assert set(frame["churned"]) == {0, 1}


def test_retail_reference_is_a_running_number_and_lapsed_are_late():
    frame = retail_no_id()
    planted = frame.attrs["planted"]
    assert frame["customer_ref"].tolist() == list(range(1, len(frame) + 1))
    assert not any(column.lower().endswith("_id") for column in frame.columns)
    assert frame["avg_basket"].str.fullmatch(r"£\d+\.\d\d").all()
    assert set(frame["newsletter"]) == {"true", "false"}
    days = frame["days_since_last_order"]
    assert days[planted == 2].mean() >= 2 * days[planted != 2].mean()
    assert days[planted == 2].mean() >= 2 * max(days[planted == g].mean() for g in (0, 1))
    assert (frame.loc[days > 365, "orders_12m"] == 0).all()
    assert (frame["returns_12m"] <= frame["orders_12m"]).all()
    basket = numeric(frame["avg_basket"])
    orders = frame["orders_12m"].to_numpy()
    assert basket[planted == 0].mean() > 2 * basket[planted != 0].mean()
    assert orders[planted == 0].mean() > 2 * orders[planted == 1].mean()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", NAMES)
def test_groups_recoverable_for_other_seeds(name, seed):
    frame = ALL_SHAPES[name][0](seed=seed)
    assert recovered_ari(frame) >= 0.9
