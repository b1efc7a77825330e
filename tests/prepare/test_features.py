"""Feature preparation: derived variables, missing values, outliers, scaling, composites."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import RobustScaler, StandardScaler

from segmentation import SegmentationError, read_table
from segmentation.data.dataset import load_dataset
from segmentation.data.roles import NEVER_CLUSTERED
from segmentation.prepare.features import (
    REASON_MISSING,
    REASON_OUTLIER,
    Preparation,
    PrepConfig,
    _suggest_composites,
    prepare,
    transform,
)
from segmentation.prepare.variables import catalogue, default_features
from tests.helpers import planted_customers, to_tsv_bytes

SPEND = ["MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts",
         "MntGoldProds"]
CHANNELS = ["NumWebPurchases", "NumCatalogPurchases", "NumStorePurchases"]


def load(frame: pd.DataFrame, name: str = "table"):
    """A hand-built table through the same reader and loader as an upload."""
    return load_dataset(read_table(to_tsv_bytes(frame), name=name))


def tiny_table() -> pd.DataFrame:
    """Six customers in the Kaggle layout; customers A3 and A6 bought nothing."""
    return pd.DataFrame({
        "ID": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "Year_Birth": [1980, 1975, 1990, 1960, 1985, 1970],
        "Education": ["Graduation", "PhD", "Basic", "Master", "2n Cycle", "Graduation"],
        "Marital_Status": ["Married", "Single", "Together", "Divorced", "Married", "Single"],
        "Income": [50000, 80000, 20000, 65000, 30000, 45000],
        "Kidhome": [1, 0, 2, 0, 1, 0],
        "Teenhome": [0, 1, 0, 1, 1, 0],
        "Dt_Customer": ["04-09-2012", "08-03-2014", "21-08-2013", "10-02-2014", "19-01-2014",
                        "09-09-2013"],
        "Recency": [58, 38, 26, 94, 16, 34],
        "MntWines": [100, 500, 0, 300, 10, 0],
        "MntFruits": [10, 20, 0, 5, 2, 0],
        "MntMeatProducts": [50, 300, 0, 100, 8, 0],
        "MntFishProducts": [20, 40, 0, 10, 0, 0],
        "MntSweetProducts": [10, 30, 0, 0, 5, 0],
        "MntGoldProds": [10, 110, 0, 85, 5, 0],
        "NumDealsPurchases": [3, 1, 5, 2, 4, 0],
        "NumWebPurchases": [4, 6, 0, 2, 3, 0],
        "NumCatalogPurchases": [2, 5, 0, 1, 0, 0],
        "NumStorePurchases": [6, 9, 0, 3, 2, 0],
        "NumWebVisitsMonth": [5, 3, 8, 4, 7, 6],
        "AcceptedCmp1": [0, 1, 0, 0, 0, 0],
        "AcceptedCmp2": [0, 1, 0, 1, 0, 0],
        "Response": [1, 1, 0, 0, 0, 0],
        "Complain": [0, 0, 1, 0, 0, 0],
        "Z_CostContact": [3, 3, 3, 3, 3, 3],
    })


@pytest.fixture(scope="module")
def tiny():
    return load(tiny_table(), "tiny")


@pytest.fixture(scope="module")
def tiny_fm(tiny):
    return prepare(tiny)


@pytest.fixture(scope="module")
def sample(sample_path):
    return load_dataset(read_table(sample_path))


@pytest.fixture(scope="module")
def sample_raw(sample_path) -> pd.DataFrame:
    """The sample file read by plain pandas, independently of the engine's reader."""
    frame = pd.read_csv(sample_path, sep="\t", dtype={"ID": str})
    return frame.set_index("ID")


@pytest.fixture(scope="module")
def sample_fm(sample):
    return prepare(sample)


@pytest.fixture(scope="module")
def planted_ds():
    return load(planted_customers(600, seed=3), "planted")


# ---------------------------------------------------------------------------
# Derived variables, checked against hand computation on six customers
# ---------------------------------------------------------------------------

def test_tiny_table_roles_are_the_expected_ones(tiny):
    assert tiny.roles["ID"] == "id"
    assert tiny.roles["Z_CostContact"] == "constant"
    assert tiny.roles["Response"] == "campaign_response"
    assert tiny.roles["NumDealsPurchases"] == "deal_purchases"
    assert list(tiny.frame.index) == ["A1", "A2", "A3", "A4", "A5", "A6"]


def test_age_is_measured_at_the_latest_signup_year(tiny_fm):
    # The latest signup is 08-03-2014, so ages are 2014 minus the birth year.
    assert tiny_fm.preparation.reference_year == 2014
    assert tiny_fm.frame["age"].tolist() == [34.0, 39.0, 24.0, 54.0, 29.0, 44.0]


def test_age_uses_a_given_reference_year(tiny):
    fm = prepare(tiny, PrepConfig(reference_year=2020))
    assert fm.preparation.reference_year == 2020
    assert fm.frame["age"].tolist() == [40.0, 45.0, 30.0, 60.0, 35.0, 50.0]


def test_children_and_household_size(tiny_fm):
    f = tiny_fm.frame
    assert f["children"].tolist() == [1.0, 1.0, 2.0, 1.0, 2.0, 0.0]
    # 1 (the customer) + 1 if married or together + children at home
    assert f["household_size"].tolist() == [3.0, 2.0, 4.0, 2.0, 4.0, 1.0]


def test_totals_and_campaigns(tiny_fm):
    f = tiny_fm.frame
    assert f["total_spend"].tolist() == [200.0, 1000.0, 0.0, 500.0, 30.0, 0.0]
    assert f["total_purchases"].tolist() == [12.0, 20.0, 0.0, 6.0, 5.0, 0.0]
    # AcceptedCmp1 + AcceptedCmp2 + Response
    assert f["campaigns_accepted"].tolist() == [1.0, 3.0, 0.0, 1.0, 0.0, 0.0]


def test_tenure_in_days_up_to_the_latest_signup(tiny_fm):
    signups = [dt.date(2012, 9, 4), dt.date(2014, 3, 8), dt.date(2013, 8, 21),
               dt.date(2014, 2, 10), dt.date(2014, 1, 19), dt.date(2013, 9, 9)]
    latest = max(signups)
    assert tiny_fm.frame["tenure_days"].tolist() == [float((latest - d).days) for d in signups]
    assert tiny_fm.frame["tenure_days"].tolist()[:2] == [550.0, 0.0]


def test_education_is_an_ordinal_from_basic_to_phd(tiny_fm):
    # Graduation, PhD, Basic, Master, 2n Cycle, Graduation on the 1 (basic) .. 6 (doctorate) scale
    assert tiny_fm.frame["education_level"].tolist() == [4.0, 6.0, 1.0, 5.0, 3.0, 4.0]


@pytest.mark.parametrize(("values", "expected"), [
    (["primary", "secondary", "tertiary"], [1.0, 2.0, 4.0]),
    (["High School", "Bachelor's", "Master", "PhD"], [2.0, 4.0, 5.0, 6.0]),
    (["Basic", "Graduation", "2n Cycle"], [1.0, 4.0, 3.0]),
])
def test_education_levels_in_other_vocabularies(values, expected):
    from segmentation.prepare.variables import _education_level

    assert _education_level(pd.Series(values)).tolist() == expected


def test_education_with_an_unknown_level_stays_a_category():
    from segmentation.data.roles import describe_columns, detect_roles

    frame = pd.DataFrame({"education": ["primary", "secondary", "apprenticeship", "tertiary"] * 10})
    assert detect_roles(frame) == {"education": "category"}
    assert "'apprenticeship'" in describe_columns(frame)["education"].reason
    known = pd.DataFrame({"education": ["primary", "secondary", "unknown", "tertiary"] * 10})
    assert detect_roles(known) == {"education": "education"}


def test_category_shares_of_spend(tiny_fm):
    f = tiny_fm.frame
    assert f.loc["A1", "share_MntWines"] == pytest.approx(100 / 200)
    assert f.loc["A1", "share_MntMeatProducts"] == pytest.approx(50 / 200)
    assert f.loc["A2", "share_MntGoldProds"] == pytest.approx(110 / 1000)
    assert f.loc["A4", "share_MntSweetProducts"] == 0.0
    assert f.loc["A5", "share_MntFruits"] == pytest.approx(2 / 30)
    table = tiny_table().set_index("ID")
    for col in SPEND:
        spend = table[col] / table[SPEND].sum(axis=1)
        expected = spend.where(table[SPEND].sum(axis=1) > 0, 0.0)
        np.testing.assert_allclose(f[f"share_{col}"], expected.to_numpy(), rtol=1e-12)
    totals = f[[f"share_{c}" for c in SPEND]].sum(axis=1)
    spenders = f["total_spend"] > 0
    np.testing.assert_allclose(totals[spenders], 1.0, rtol=1e-12)
    # No spend at all: every share is 0, not NaN.
    assert (totals[~spenders] == 0).all()


def test_channel_shares_of_purchases(tiny_fm):
    f = tiny_fm.frame
    assert f.loc["A1", "channel_share_NumWebPurchases"] == pytest.approx(4 / 12)
    assert f.loc["A1", "channel_share_NumStorePurchases"] == pytest.approx(6 / 12)
    assert f.loc["A2", "channel_share_NumCatalogPurchases"] == pytest.approx(5 / 20)
    assert f.loc["A5", "channel_share_NumCatalogPurchases"] == 0.0
    shares = f[[f"channel_share_{c}" for c in CHANNELS]]
    buyers = f["total_purchases"] > 0
    np.testing.assert_allclose(shares[buyers].sum(axis=1), 1.0, rtol=1e-12)
    assert (shares[~buyers] == 0).all().all()
    assert not shares.isna().any().any()


def test_sample_derived_variables_match_pandas(sample_fm, sample_raw):
    f = sample_fm.frame
    raw = sample_raw.loc[f.index]
    np.testing.assert_array_equal(f["children"], raw["Kidhome"] + raw["Teenhome"])
    np.testing.assert_array_equal(f["total_spend"], raw[SPEND].sum(axis=1))
    np.testing.assert_array_equal(f["total_purchases"], raw[CHANNELS].sum(axis=1))
    cmp = [c for c in raw.columns if c.startswith("AcceptedCmp")] + ["Response"]
    np.testing.assert_array_equal(f["campaigns_accepted"], raw[cmp].sum(axis=1))
    signup = pd.to_datetime(raw["Dt_Customer"], format="%d-%m-%Y")
    np.testing.assert_array_equal(f["tenure_days"], (signup.max() - signup).dt.days)
    assert sample_fm.preparation.reference_year == signup.max().year == 2014


# ---------------------------------------------------------------------------
# The default clustering set
# ---------------------------------------------------------------------------

def _check_default_set(dataset):
    variables = catalogue(dataset.roles)
    chosen = default_features(variables)
    assert 5 <= len(chosen) <= 12
    banned = {c for c, r in dataset.roles.items() if r in NEVER_CLUSTERED}
    for name in chosen:
        assert name not in banned
        assert not set(variables[name].sources) & banned, name
    return chosen


def test_default_set_on_the_sample(sample, sample_fm):
    chosen = _check_default_set(sample)
    assert sample_fm.features == chosen
    for expected in ("Income", "age", "children", "Recency", "MntWines", "MntMeatProducts"):
        assert expected in chosen
    assert "ID" not in chosen and "Z_CostContact" not in chosen and "Z_Revenue" not in chosen


def test_default_set_skips_ids_and_constants(tiny, tiny_fm):
    chosen = _check_default_set(tiny)
    assert {"ID", "Z_CostContact"}.isdisjoint(chosen)
    assert tiny_fm.features == chosen


def test_default_set_stays_within_twelve_on_a_wide_table():
    rng = np.random.default_rng(5)
    frame = planted_customers(120, seed=1)
    for i in range(25):
        frame[f"Metric{i}"] = rng.integers(0, 1000, len(frame))
    frame["customer_code"] = [f"X{i:04d}" for i in range(len(frame))]
    frame["Notes"] = [f"called on day {i} about order {7 * i + 3}" for i in range(len(frame))]
    ds = load(frame)
    assert ds.roles["Notes"] == "text"
    assert ds.roles["customer_code"] == "id"
    assert ds.roles["Z_CostContact"] == "constant"
    chosen = _check_default_set(ds)
    assert len(chosen) == 12
    assert {"Notes", "customer_code", "ID", "Z_CostContact"}.isdisjoint(chosen)


def test_default_set_on_a_small_table_reaches_five():
    frame = tiny_table()[["ID", "Income", "Recency", "MntWines", "MntMeatProducts",
                          "NumDealsPurchases", "NumWebVisitsMonth"]]
    chosen = _check_default_set(load(frame))
    assert set(chosen) >= {"Income", "Recency", "MntWines", "MntMeatProducts"}


def test_unknown_feature_is_an_error(tiny):
    with pytest.raises(SegmentationError, match="Unknown clustering variable"):
        prepare(tiny, PrepConfig(features=("Income", "Shoe size")))


def test_features_can_be_named_by_label(tiny):
    fm = prepare(tiny, PrepConfig(features=("income", "Total spend", "AGE")))
    assert fm.features == ("Income", "total_spend", "age")


# ---------------------------------------------------------------------------
# Missing values
# ---------------------------------------------------------------------------

def table_with_gaps() -> pd.DataFrame:
    frame = tiny_table()
    frame["Education"] = frame["Education"].astype(object)
    frame.loc[4, "Education"] = "Graduation"  # Graduation is now the clear mode
    frame["Income"] = frame["Income"].astype(float)
    frame["Year_Birth"] = frame["Year_Birth"].astype(float)
    frame.loc[2, "Income"] = np.nan  # A3
    frame.loc[3, "Year_Birth"] = np.nan  # A4
    frame.loc[5, "Education"] = np.nan  # A6
    return frame


def test_median_and_mode_imputation_with_counts():
    fm = prepare(load(table_with_gaps()))
    report = fm.report
    assert report.missing == {"Income": 1, "Year_Birth": 1, "Education": 1}
    assert report.imputed == {"Income": 1, "Year_Birth": 1, "Education": 1}
    assert report.rows_dropped == 0
    f = fm.frame
    # median of 50000, 80000, 65000, 30000, 45000
    assert f.loc["A3", "Income"] == 50000.0
    # median birth year of 1980, 1975, 1990, 1985, 1970 is 1980: age 34 in 2014
    assert f.loc["A4", "age"] == 34.0
    # mode of Graduation, PhD, Basic, Master, Graduation (4 on the 1..6 scale)
    assert f.loc["A6", "education_level"] == 4.0
    assert not f.isna().any().any()
    assert fm.preparation.impute_values["Education"] == "Graduation"


def test_drop_policy_drops_and_counts_rows():
    fm = prepare(load(table_with_gaps()), PrepConfig(missing="drop"))
    # Income and age are clustering variables; education is not, so A6 stays (imputed).
    assert list(fm.frame.index) == ["A1", "A2", "A5", "A6"]
    assert fm.n_customers == 4
    assert fm.report.dropped == {REASON_MISSING: 2}
    assert fm.report.excluded_ids == {"A3": REASON_MISSING, "A4": REASON_MISSING}
    assert fm.report.imputed == {"Education": 1}
    assert fm.frame.loc["A6", "education_level"] == 4.0


def test_drop_policy_only_looks_at_chosen_variables():
    fm = prepare(load(table_with_gaps()),
                 PrepConfig(missing="drop", features=("Recency", "MntWines", "total_spend")))
    assert fm.n_customers == 6
    assert fm.report.rows_dropped == 0


def test_sample_missing_incomes_are_imputed_with_the_median(sample_fm, sample_raw):
    # The sample has 24 missing incomes (see sample_data/README.md).
    gaps = sample_raw.index[sample_raw["Income"].isna()]
    assert len(gaps) == 24
    assert sample_fm.report.missing["Income"] == 24
    assert sample_fm.report.imputed["Income"] == 24
    median = sample_raw["Income"].median()
    assert (sample_fm.frame.loc[gaps, "Income"] == median).all()


# ---------------------------------------------------------------------------
# Outliers
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def odd_table() -> pd.DataFrame:
    frame = planted_customers(300, seed=7)
    frame.loc[10, "Year_Birth"] = 1893  # 121 years old in 2014
    frame.loc[11, "Year_Birth"] = 1900
    frame.loc[12, "Year_Birth"] = 2008  # 6 years old
    frame.loc[13, "Income"] = 666666
    frame.loc[14, "Income"] = 120000  # high, but a real earner
    frame.loc[15, "Year_Birth"] = 1914  # exactly 100: old, not impossible
    return frame


@pytest.fixture(scope="module")
def odd(odd_table):
    return load(odd_table, "odd")


def _plausible(odd_table):
    ages = 2014 - odd_table["Year_Birth"]
    ok_age = ages[(ages >= 16) & (ages <= 100)]
    ok_income = odd_table["Income"][odd_table["Income"] != 666666]
    return ok_age, ok_income


def test_reference_year_of_the_odd_table(odd):
    assert prepare(odd).preparation.reference_year == 2014


def test_default_outlier_policy_is_clip(odd):
    assert PrepConfig().outliers == "clip"
    fm = prepare(odd)
    assert fm.report.outlier_policy == "clip"
    assert fm.report.outliers == {"age": 3, "Income": 1}


def test_clip_moves_values_to_the_nearest_plausible_observed_value(odd, odd_table):
    fm = prepare(odd, PrepConfig(outliers="clip"))
    ok_age, ok_income = _plausible(odd_table)
    f = fm.frame
    assert f.loc["C00010", "age"] == ok_age.max()
    assert f.loc["C00011", "age"] == ok_age.max()
    assert f.loc["C00012", "age"] == ok_age.min()
    assert f.loc["C00013", "Income"] == ok_income.max() == 120000
    assert f.loc["C00014", "Income"] == 120000
    assert f.loc["C00015", "age"] == 100 == ok_age.max()
    assert fm.n_customers == 300
    assert fm.report.rows_dropped == 0
    # everyone else is untouched
    others = f.index.difference(["C00010", "C00011", "C00012", "C00013"])
    raw = odd_table.set_index("ID").loc[others]
    np.testing.assert_array_equal(f.loc[others, "age"], 2014 - raw["Year_Birth"])
    np.testing.assert_array_equal(f.loc[others, "Income"], raw["Income"])


def test_keep_flags_but_leaves_values(odd):
    fm = prepare(odd, PrepConfig(outliers="keep"))
    assert fm.report.outliers == {"age": 3, "Income": 1}
    assert fm.frame.loc["C00010", "age"] == 121
    assert fm.frame.loc["C00012", "age"] == 6
    assert fm.frame.loc["C00013", "Income"] == 666666
    assert fm.n_customers == 300


def test_exclude_drops_the_flagged_customers(odd):
    fm = prepare(odd, PrepConfig(outliers="exclude"))
    gone = {"C00010", "C00011", "C00012", "C00013"}
    assert fm.report.outliers == {"age": 3, "Income": 1}
    assert fm.report.dropped == {REASON_OUTLIER: 4}
    assert fm.report.excluded_ids == dict.fromkeys(gone, REASON_OUTLIER)
    assert gone.isdisjoint(fm.frame.index)
    assert fm.n_customers == 296
    assert fm.frame.loc["C00014", "Income"] == 120000


def test_outliers_on_the_sample_file(sample, sample_raw):
    # sample_data/README.md: one income of 666666, birth years 1893, 1899 and 1900.
    ages = 2014 - sample_raw["Year_Birth"]
    assert sorted(sample_raw["Year_Birth"].nsmallest(3)) == [1893, 1899, 1900]
    clipped = prepare(sample)
    assert clipped.report.outliers == {"Income": 1, "age": 3}
    incomes = sample_raw["Income"].dropna()
    assert clipped.frame["Income"].max() == incomes[incomes < 666666].max()
    assert clipped.frame["age"].max() == ages[ages <= 100].max()
    kept = prepare(sample, PrepConfig(outliers="keep"))
    assert kept.frame["Income"].max() == 666666
    assert kept.frame["age"].max() == 2014 - 1893
    excluded = prepare(sample, PrepConfig(outliers="exclude"))
    assert excluded.report.dropped[REASON_OUTLIER] == 4
    assert excluded.n_customers == sample.n_customers - 4


@pytest.mark.realdata
def test_outliers_on_the_real_file(real_path):
    # shared/data/README.md: the maximum income 666666 is an outlier, next highest 162,397.
    fm = prepare(load_dataset(read_table(real_path)))
    assert fm.report.outliers == {"Income": 1, "age": 3}
    assert fm.frame["Income"].max() == 162397
    assert fm.frame["age"].max() <= 100


# ---------------------------------------------------------------------------
# Scaling and weights
# ---------------------------------------------------------------------------

def test_zscore_equals_standard_scaler(sample_fm):
    raw = sample_fm.frame[list(sample_fm.features)].to_numpy(float)
    np.testing.assert_allclose(sample_fm.X, StandardScaler().fit_transform(raw),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sample_fm.X.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(sample_fm.X.std(axis=0), 1, rtol=1e-10)


def test_robust_equals_robust_scaler_where_iqr_is_positive(sample):
    features = ("Income", "age", "Recency", "MntWines", "NumStorePurchases", "Complain")
    fm = prepare(sample, PrepConfig(scaling="robust", features=features))
    raw = fm.frame[list(fm.features)].to_numpy(float)
    expected = RobustScaler().fit_transform(raw)
    iqr = np.subtract(*np.percentile(raw, [75, 25], axis=0))
    assert iqr[fm.features.index("Complain")] == 0  # most customers never complain
    positive = iqr > 0
    assert positive.sum() == len(features) - 1
    np.testing.assert_allclose(fm.X[:, positive], expected[:, positive], rtol=1e-10, atol=1e-10)
    # a yes/no flag keeps its 0/1 units, scaled by sqrt(2) so it weighs like one z-scored
    # number (features.FLAG_SCALE), whatever the scaling
    j = fm.features.index("Complain")
    np.testing.assert_allclose(fm.X[:, j], raw[:, j] * np.sqrt(2), rtol=1e-10)


def test_robust_scale_falls_back_to_the_sd_where_the_iqr_is_zero(sample):
    fm = prepare(sample, PrepConfig(scaling="robust", features=("Income", "NumDealsPurchases")))
    raw = fm.frame[list(fm.features)].to_numpy(float)
    q75, q25 = np.percentile(raw, [75, 25], axis=0)
    for j in range(raw.shape[1]):
        scale = (q75 - q25)[j] if (q75 - q25)[j] > 1e-12 else raw[:, j].std()
        np.testing.assert_allclose(fm.X[:, j], (raw[:, j] - np.median(raw[:, j])) / scale,
                                   rtol=1e-10)


def test_log_scaling_is_log1p_on_amounts_and_counts_then_zscore(sample):
    fm = prepare(sample, PrepConfig(scaling="log"))
    # every amount, count and duration; not age or children (measures of another sort)
    spend = {"MntWines", "MntMeatProducts", "MntFishProducts", "MntSweetProducts",
             "MntGoldProds", "Income", "Recency", "NumWebPurchases", "NumCatalogPurchases",
             "NumStorePurchases"}
    assert set(fm.preparation.log_features) == spend & set(fm.features)
    assert not {"age", "children"} & set(fm.preparation.log_features)
    raw = fm.frame[list(fm.features)].copy()
    for col in raw.columns:
        if col in spend:
            raw[col] = np.log1p(raw[col])
    np.testing.assert_allclose(fm.X, StandardScaler().fit_transform(raw.to_numpy(float)),
                               rtol=1e-10, atol=1e-10)


def test_weights_multiply_by_the_square_root(sample, sample_fm):
    fm = prepare(sample, PrepConfig(weights=(("Income", 4.0), ("MntWines", 0.25))))
    assert fm.features == sample_fm.features
    i, w = fm.features.index("Income"), fm.features.index("MntWines")
    np.testing.assert_allclose(fm.X[:, i], 2.0 * sample_fm.X[:, i], rtol=1e-12)
    np.testing.assert_allclose(fm.X[:, w], 0.5 * sample_fm.X[:, w], rtol=1e-12)
    rest = [j for j in range(len(fm.features)) if j not in (i, w)]
    np.testing.assert_array_equal(fm.X[:, rest], sample_fm.X[:, rest])
    # squared distances count Income four times and wine a quarter
    a, b = fm.X[:20], fm.X[20:40]
    ua, ub = sample_fm.X[:20], sample_fm.X[20:40]
    d2 = ((a - b) ** 2).sum(axis=1)
    parts = (ua - ub) ** 2
    expected = parts[:, rest].sum(axis=1) + 4.0 * parts[:, i] + 0.25 * parts[:, w]
    np.testing.assert_allclose(d2, expected, rtol=1e-10)


@pytest.mark.parametrize("weight", [0.0, -1.0, float("nan"), float("inf")])
def test_weight_must_be_positive(weight):
    with pytest.raises(SegmentationError):
        PrepConfig(weights=(("Income", weight),))


def test_weight_on_an_unchosen_variable_is_an_error(tiny):
    with pytest.raises(SegmentationError, match="not clustering"):
        prepare(tiny, PrepConfig(features=("Income", "Recency"), weights=(("MntWines", 2.0),)))


@pytest.mark.parametrize("field,value", [("missing", "guess"), ("outliers", "trim"),
                                         ("scaling", "minmax")])
def test_unknown_policies_are_errors(field, value):
    with pytest.raises(SegmentationError):
        PrepConfig(**{field: value})


def _one_true_age_table() -> pd.DataFrame:
    """Everyone born in 1970 except one impossible birth year: after clipping, one age."""
    frame = tiny_table()
    frame["Year_Birth"] = [1970, 1970, 1890, 1970, 1970, 1970]
    return frame


def test_zero_variance_column_is_dropped_with_a_warning():
    ds = load(_one_true_age_table())
    fm = prepare(ds, PrepConfig(features=("Income", "age", "Recency")))
    assert (fm.frame["age"] == 44).all()
    assert fm.features == ("Income", "Recency")
    assert fm.X.shape == (6, 2)
    assert fm.report.zero_variance == ("age",)
    assert any("age" in w for w in fm.report.warnings)
    assert fm.preparation.features == ("Income", "Recency")


def test_no_variance_left_is_an_error():
    ds = load(_one_true_age_table())
    with pytest.raises(SegmentationError, match="No variance"):
        prepare(ds, PrepConfig(features=("age",)))


def test_all_identical_customers_are_an_error():
    frame = pd.concat([tiny_table().iloc[[0]]] * 8, ignore_index=True)
    frame["ID"] = [f"S{i}" for i in range(len(frame))]
    with pytest.raises(SegmentationError):
        prepare(load(frame))
    # even when every column is forced to be a clustering variable
    raw = read_table(to_tsv_bytes(frame))
    roles = {"Income": "income", "Recency": "recency", "MntWines": "spend",
             "MntMeatProducts": "spend", "NumWebPurchases": "channel_purchases"}
    ds = load_dataset(raw, roles=roles)
    with pytest.raises(SegmentationError, match="No variance"):
        prepare(ds, PrepConfig(features=tuple(roles)))


# ---------------------------------------------------------------------------
# Composite suggestions
# ---------------------------------------------------------------------------

def test_suggestions_are_exactly_the_strongly_correlated_pairs(planted_ds):
    fm = prepare(planted_ds)
    values = fm.frame[list(fm.features)].to_numpy(float)
    r = np.corrcoef(values, rowvar=False)
    expected = {
        frozenset((fm.features[i], fm.features[j]))
        for i in range(len(fm.features)) for j in range(i + 1, len(fm.features))
        if abs(r[i, j]) >= 0.75
    }
    got = _suggest_composites(fm.frame, fm.features, fm.variables)
    assert {frozenset((s.a, s.b)) for s in got} == expected
    assert frozenset(("MntWines", "MntMeatProducts")) in expected
    for s in got:
        i, j = fm.features.index(s.a), fm.features.index(s.b)
        assert s.r == pytest.approx(r[i, j], abs=1e-10)
        assert s.name == f"{s.a}+{s.b}"
    assert [abs(s.r) for s in got] == sorted((abs(s.r) for s in got), reverse=True)
    assert {frozenset((s.a, s.b)) for s in fm.report.correlated} == expected


def test_no_suggestion_below_the_threshold():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    noise = rng.normal(size=500)
    # population correlation 0.6: clearly below 0.75
    frame = pd.DataFrame({"a": x, "b": 0.6 * x + 0.8 * noise})
    variables = catalogue({"a": "other_numeric", "b": "other_numeric"})
    assert _suggest_composites(frame, ("a", "b"), variables) == ()
    # and exactly at the threshold when the data are made so
    frame["c"] = x
    variables = catalogue({"a": "other_numeric", "c": "other_numeric"})
    got = _suggest_composites(frame, ("a", "c"), variables)
    assert len(got) == 1 and got[0].r == pytest.approx(1.0)


def test_spend_composite_replaces_both_and_reads_as_money(planted_ds):
    pair = ("MntWines", "MntMeatProducts")
    fm = prepare(planted_ds, PrepConfig(composites=(pair,)))
    name = "MntWines+MntMeatProducts"
    assert name in fm.features
    assert "MntWines" not in fm.features and "MntMeatProducts" not in fm.features
    base = prepare(planted_ds)
    assert len(fm.features) == len(base.features) - 1
    np.testing.assert_array_equal(fm.frame[name],
                                  base.frame["MntWines"] + base.frame["MntMeatProducts"])
    col = fm.frame[name].to_numpy(float)
    np.testing.assert_allclose(fm.X[:, fm.features.index(name)],
                               (col - col.mean()) / col.std(), rtol=1e-10)
    assert "wine + meat" in fm.variables[name].label


def test_mixed_composite_is_the_mean_of_z_scores(planted_ds):
    fm = prepare(planted_ds, PrepConfig(composites=(("Income", "MntWines"),)))
    name = "Income+MntWines"
    assert name in fm.features and "Income" not in fm.features and "MntWines" not in fm.features
    inc, wine = fm.frame["Income"], fm.frame["MntWines"]
    expected = ((inc - inc.mean()) / inc.std(ddof=0) + (wine - wine.mean()) / wine.std(ddof=0)) / 2
    np.testing.assert_allclose(fm.frame[name], expected, rtol=1e-10, atol=1e-12)


def test_composite_needs_both_variables_chosen(planted_ds):
    with pytest.raises(SegmentationError, match="composite"):
        prepare(planted_ds, PrepConfig(features=("Income", "MntWines"),
                                       composites=(("MntWines", "MntMeatProducts"),)))


# ---------------------------------------------------------------------------
# transform() and the saved preparation
# ---------------------------------------------------------------------------

CONFIGS = [
    PrepConfig(),
    PrepConfig(scaling="robust", missing="drop", outliers="exclude"),
    PrepConfig(scaling="log", outliers="keep", weights=(("Income", 2.0),)),
    PrepConfig(composites=(("MntWines", "MntMeatProducts"),)),
    PrepConfig(features=("Income", "age", "Recency", "tenure_days", "education_level",
                         "household_size"), composites=(("Income", "age"),)),
]


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_transform_reproduces_prepare_also_after_json(sample, config):
    fm = prepare(sample, config)
    again = transform(sample, fm.preparation)
    assert again.features == fm.features
    assert list(again.customer_ids) == list(fm.customer_ids)
    np.testing.assert_array_equal(again.X, fm.X)
    text = json.dumps(fm.preparation.to_dict())
    restored = Preparation.from_dict(json.loads(text))
    assert restored == fm.preparation
    np.testing.assert_array_equal(transform(sample, restored).X, fm.X)


def test_transform_uses_saved_parameters_on_new_customers(sample, sample_fm):
    # A handful of customers scored alone land where they were among everyone.
    ids = list(sample_fm.customer_ids[:7])
    alone = transform(_subset(sample, ids), sample_fm.preparation)
    np.testing.assert_allclose(alone.X, sample_fm.X[:7], rtol=1e-12, atol=1e-12)


def _subset(dataset, ids):
    return type(dataset)(frame=dataset.frame.loc[ids], roles=dataset.roles,
                         id_column=dataset.id_column, rows_read=len(ids))


def test_transform_keeps_tenure_when_customers_are_scored_alone(sample):
    fm = prepare(sample, PrepConfig(features=("Income", "age", "Recency", "tenure_days")))
    dates = sample.frame.loc[fm.customer_ids, "Dt_Customer"]
    # customers who signed up in the reference year, but before the very last signup
    ids = list(dates.index[(dates.dt.year == 2014) & (dates < dates.max())][:7])
    assert len(ids) == 7
    alone = transform(_subset(sample, ids), fm.preparation)
    np.testing.assert_array_equal(alone.frame["tenure_days"], fm.frame.loc[ids, "tenure_days"])
    rows = [fm.customer_ids.get_loc(i) for i in ids]
    np.testing.assert_allclose(alone.X, fm.X[rows], rtol=1e-12, atol=1e-12)
