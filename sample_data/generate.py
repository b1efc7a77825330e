"""Generate a synthetic CRM export shaped like the Kaggle "Customer Personality Analysis" file.

The public dataset (``marketing_campaign.csv``) cannot be shipped with this repository, yet the
app, the tests and the docs need a realistic file to run on.  This script writes
``marketing_campaign_sample.csv``: same 29 columns in the same order, tab-separated, CRLF line
endings, ``DD-MM-YYYY`` dates, the same category labels and value ranges, but entirely
invented rows.  No row or value is taken from the real file.

Unlike random noise, the data has a planted latent structure so that segmentation is
meaningful and can be checked: four customer types (premium, budget families, category
specialists, lapsed) that overlap but are recoverable by k-means on standardized features.
The real file's known warts (missing incomes, impossible birth years, an income of 666666,
junk marital statuses, constant ``Z_*`` columns) are planted too, so cleaning code gets
exercised.

The output is fully deterministic for a given ``--rows`` and ``--seed``: running the script
twice produces byte-identical files.

Examples
--------
Regenerate the committed sample from the repository root::

    python sample_data/generate.py

Use it from Python::

    from sample_data.generate import generate_customers
    df = generate_customers(n=500, seed=1)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_ROWS = 2240
DEFAULT_SEED = 20240611
DEFAULT_OUT = Path(__file__).with_name("marketing_campaign_sample.csv")

COLUMNS = [
    "ID",
    "Year_Birth",
    "Education",
    "Marital_Status",
    "Income",
    "Kidhome",
    "Teenhome",
    "Dt_Customer",
    "Recency",
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
    "NumDealsPurchases",
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "NumWebVisitsMonth",
    "AcceptedCmp3",
    "AcceptedCmp4",
    "AcceptedCmp5",
    "AcceptedCmp1",
    "AcceptedCmp2",
    "Complain",
    "Z_CostContact",
    "Z_Revenue",
    "Response",
]

SPEND_COLUMNS = [
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
]
PURCHASE_COLUMNS = [
    "NumDealsPurchases",
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "NumWebVisitsMonth",
]
# Campaign columns in the order the real export lists them (3, 4, 5, 1, 2 -- not numeric).
CAMPAIGN_COLUMNS = ["AcceptedCmp3", "AcceptedCmp4", "AcceptedCmp5", "AcceptedCmp1", "AcceptedCmp2"]

# Upper bounds seen in the public file; clipping keeps every column inside a familiar range.
SPEND_MAX = {
    "MntWines": 1493,
    "MntFruits": 199,
    "MntMeatProducts": 1725,
    "MntFishProducts": 259,
    "MntSweetProducts": 263,
    "MntGoldProds": 362,
}
PURCHASE_MAX = {
    "NumDealsPurchases": 15,
    "NumWebPurchases": 27,
    "NumCatalogPurchases": 28,
    "NumStorePurchases": 13,
    "NumWebVisitsMonth": 20,
}
INCOME_MIN, INCOME_MAX = 1730, 162397
BIRTH_MIN, BIRTH_MAX = 1940, 1996
FIRST_ENROLMENT = np.datetime64("2012-07-30")
LAST_ENROLMENT = np.datetime64("2014-06-29")

EDUCATION_LEVELS = ["Graduation", "PhD", "Master", "2n Cycle", "Basic"]
# Marital shares follow the public file; the junk values are planted separately as warts.
MARITAL_LEVELS = ["Married", "Together", "Single", "Divorced", "Widow"]
MARITAL_SHARES = [0.386, 0.259, 0.215, 0.105, 0.035]

# Warts of the public file, reproduced with the same counts.
N_MISSING_INCOME = 24
IMPLAUSIBLE_BIRTH_YEARS = [1893, 1899, 1900]
OUTLIER_INCOME = 666666
JUNK_MARITAL = ["Alone"] * 3 + ["Absurd"] * 2 + ["YOLO"] * 2
Z_COST_CONTACT = 3
Z_REVENUE = 11


@dataclass(frozen=True)
class CustomerType:
    """Parameters of one planted customer type.

    Attributes
    ----------
    name : str
        Short label of the type.
    share : float
        Target fraction of customers of this type.
    income : tuple of float
        Mean and standard deviation of yearly household income.
    birth_year : tuple of float
        Mean and standard deviation of the birth year.
    kid_probs, teen_probs : tuple of float
        Probabilities of 0, 1 and 2 children (resp. teenagers) at home.
    recency : tuple of float
        ``(a, b, low, high)``: Recency is ``low + Beta(a, b) * (high - low)`` days.
    spend : dict of str to float
        Median two-year spend per product column for a customer at the type's mean income.
    purchases : dict of str to float
        Mean count per purchase / visit column.
    education : tuple of float
        Probabilities of each entry of ``EDUCATION_LEVELS``.
    campaigns : dict of str to float
        Acceptance probability per campaign column, including ``Response``.
    complain : float
        Probability of a complaint in the last two years.
    """

    name: str
    share: float
    income: tuple[float, float]
    birth_year: tuple[float, float]
    kid_probs: tuple[float, float, float]
    teen_probs: tuple[float, float, float]
    recency: tuple[float, float, float, float]
    spend: dict[str, float]
    purchases: dict[str, float]
    education: tuple[float, float, float, float, float]
    campaigns: dict[str, float]
    complain: float


def _spend(wine, fruit, meat, fish, sweet, gold):
    """Map positional medians onto the spend columns (keeps the type table compact)."""
    return dict(zip(SPEND_COLUMNS, (wine, fruit, meat, fish, sweet, gold), strict=True))


def _purchases(deals, web, catalog, store, visits):
    """Map positional means onto the purchase columns (keeps the type table compact)."""
    return dict(zip(PURCHASE_COLUMNS, (deals, web, catalog, store, visits), strict=True))


def _campaigns(cmp3, cmp4, cmp5, cmp1, cmp2, response):
    """Map positional probabilities onto the campaign columns plus ``Response``."""
    names = [*CAMPAIGN_COLUMNS, "Response"]
    return dict(zip(names, (cmp3, cmp4, cmp5, cmp1, cmp2, response), strict=True))


# The planted types.  Recency is what mainly separates "lapsed" from the mid-income specialists,
# so lapsed customers sit at 65-99 days while the others lean towards recent purchases.
CUSTOMER_TYPES = (
    CustomerType(
        name="premium",
        share=0.25,
        income=(79_000, 7_500),
        birth_year=(1961, 9),
        kid_probs=(0.95, 0.05, 0.0),
        teen_probs=(0.82, 0.18, 0.0),
        recency=(1.2, 1.8, 0, 99),
        spend=_spend(650, 45, 420, 60, 45, 55),
        purchases=_purchases(1.2, 5.0, 6.0, 9.0, 2.8),
        education=(0.50, 0.28, 0.16, 0.06, 0.0),
        campaigns=_campaigns(0.08, 0.15, 0.22, 0.18, 0.04, 0.32),
        complain=0.004,
    ),
    CustomerType(
        name="budget_family",
        share=0.35,
        income=(33_000, 6_000),
        birth_year=(1975, 9),
        kid_probs=(0.15, 0.75, 0.10),
        teen_probs=(0.40, 0.56, 0.04),
        recency=(1.2, 1.8, 0, 99),
        spend=_spend(14, 3, 13, 4, 3, 9),
        purchases=_purchases(3.2, 2.3, 0.5, 3.3, 7.0),
        education=(0.46, 0.15, 0.15, 0.17, 0.07),
        campaigns=_campaigns(0.08, 0.01, 0.0, 0.005, 0.002, 0.07),
        complain=0.011,
    ),
    CustomerType(
        name="specialist",
        share=0.22,
        income=(57_500, 5_500),
        birth_year=(1968, 9),
        kid_probs=(0.70, 0.28, 0.02),
        teen_probs=(0.55, 0.43, 0.02),
        recency=(1.2, 1.8, 0, 99),
        spend=_spend(170, 20, 70, 95, 85, 150),
        purchases=_purchases(2.5, 8.0, 2.5, 5.5, 5.5),
        education=(0.52, 0.22, 0.17, 0.09, 0.0),
        campaigns=_campaigns(0.07, 0.09, 0.04, 0.05, 0.01, 0.14),
        complain=0.009,
    ),
    CustomerType(
        name="lapsed",
        share=0.18,
        income=(52_000, 9_000),
        birth_year=(1966, 9),
        kid_probs=(0.55, 0.42, 0.03),
        teen_probs=(0.45, 0.52, 0.03),
        recency=(2.2, 1.2, 65, 99),
        spend=_spend(110, 7, 45, 10, 7, 18),
        purchases=_purchases(2.2, 3.5, 1.5, 4.5, 5.0),
        education=(0.50, 0.24, 0.17, 0.09, 0.0),
        campaigns=_campaigns(0.05, 0.06, 0.03, 0.03, 0.005, 0.06),
        complain=0.02,
    ),
)

# Lognormal sigma of spend around the type median: wide enough for a long right tail and
# overlap between types, narrow enough that the types stay distinguishable.
SPEND_SIGMA = 0.6
# Spread of a per-customer "wallet" factor shared by all categories, so categories correlate.
WALLET_SIGMA = 0.25
# How strongly spend follows income within a type (1.0 = proportional).
SPEND_INCOME_ELASTICITY = 1.0
# Gamma-Poisson shape for purchase counts: smaller means more overdispersion than Poisson.
COUNT_SHAPE = 10.0


def assign_types(rng, n):
    """Assign each customer a planted type, with sizes matching the target shares.

    Exact counts (rather than independent draws) keep the shares stable for any seed.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random number generator.
    n : int
        Number of customers.

    Returns
    -------
    numpy.ndarray
        Integer type index per customer, in random order.
    """
    shares = np.array([t.share for t in CUSTOMER_TYPES])
    counts = np.floor(shares * n).astype(int)
    # Hand the rounding remainder to the largest types so the counts sum to n.
    counts[np.argsort(-shares)[: n - counts.sum()]] += 1
    types = np.repeat(np.arange(len(CUSTOMER_TYPES)), counts)
    return rng.permutation(types)


def draw_ids(rng, n):
    """Draw unique, non-sequential customer IDs like the real export's sparse ID range.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random number generator.
    n : int
        Number of customers.

    Returns
    -------
    numpy.ndarray
        Unique non-negative integer IDs in random order.
    """
    # The public file uses IDs 0..11191 for 2,240 customers, i.e. about one ID in five.
    pool = max(11_192, 5 * n)
    return rng.choice(pool, size=n, replace=False)


def draw_birth_years(rng, types):
    """Draw birth years around each type's mean, clipped to a plausible adult range."""
    mean = np.array([t.birth_year[0] for t in CUSTOMER_TYPES])[types]
    sd = np.array([t.birth_year[1] for t in CUSTOMER_TYPES])[types]
    years = np.rint(rng.normal(mean, sd))
    return np.clip(years, BIRTH_MIN, BIRTH_MAX).astype(int)


def draw_categories(rng, types, levels, probs_per_type):
    """Draw one categorical label per customer from type-specific probabilities.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random number generator.
    types : numpy.ndarray
        Type index per customer.
    levels : list of str
        Category labels.
    probs_per_type : sequence of sequence of float
        For each type, the probability of each label.

    Returns
    -------
    numpy.ndarray
        Labels, dtype object.
    """
    out = np.empty(len(types), dtype=object)
    for k, probs in enumerate(probs_per_type):
        rows = np.flatnonzero(types == k)
        out[rows] = rng.choice(levels, size=rows.size, p=probs)
    return out


def draw_incomes(rng, types):
    """Draw yearly household income from a per-type normal, clipped to the real file's range."""
    mean = np.array([t.income[0] for t in CUSTOMER_TYPES])[types]
    sd = np.array([t.income[1] for t in CUSTOMER_TYPES])[types]
    return np.clip(np.rint(rng.normal(mean, sd)), INCOME_MIN, INCOME_MAX)


def draw_children(rng, types, attr):
    """Draw 0, 1 or 2 children (or teenagers) at home from per-type probabilities."""
    out = np.empty(len(types), dtype=int)
    for k, ctype in enumerate(CUSTOMER_TYPES):
        rows = np.flatnonzero(types == k)
        out[rows] = rng.choice(3, size=rows.size, p=getattr(ctype, attr))
    return out


def draw_enrolment_dates(rng, n):
    """Draw enrolment dates uniformly over the real file's window, formatted ``DD-MM-YYYY``."""
    span = int((LAST_ENROLMENT - FIRST_ENROLMENT) / np.timedelta64(1, "D"))
    dates = FIRST_ENROLMENT + rng.integers(0, span + 1, size=n).astype("timedelta64[D]")
    return pd.to_datetime(dates).strftime("%d-%m-%Y").to_numpy(dtype=object)


def draw_recency(rng, types):
    """Draw days since last purchase; lapsed customers skew towards 70-99, others lower."""
    params = np.array([t.recency for t in CUSTOMER_TYPES])[types]
    a, b, low, high = params.T
    return np.rint(low + rng.beta(a, b) * (high - low)).astype(int)


def draw_spend(rng, types, incomes):
    """Draw two-year spend per product category.

    Spend is lognormal (right-skewed, never negative) around a per-type median that scales with
    the customer's income relative to the type's mean, so richer customers within a type spend
    more.  Flooring produces the many small and zero amounts seen in the real file.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random number generator.
    types : numpy.ndarray
        Type index per customer.
    incomes : numpy.ndarray
        Income per customer (before any warts are planted).

    Returns
    -------
    dict of str to numpy.ndarray
        Integer spend per spend column.
    """
    type_income = np.array([t.income[0] for t in CUSTOMER_TYPES])[types]
    income_factor = (incomes / type_income) ** SPEND_INCOME_ELASTICITY
    wallet = rng.normal(0.0, WALLET_SIGMA, size=len(types))
    spend = {}
    for col in SPEND_COLUMNS:
        median = np.array([t.spend[col] for t in CUSTOMER_TYPES])[types] * income_factor
        noise = rng.normal(0.0, SPEND_SIGMA, size=len(types))
        amount = np.floor(median * np.exp(wallet + noise))
        spend[col] = np.clip(amount, 0, SPEND_MAX[col]).astype(int)
    return spend


def draw_purchases(rng, types):
    """Draw purchase and web-visit counts from a gamma-Poisson mixture with per-type means.

    The gamma mixing makes counts overdispersed (a few heavy buyers), as real counts are.
    """
    counts = {}
    for col in PURCHASE_COLUMNS:
        mean = np.array([t.purchases[col] for t in CUSTOMER_TYPES])[types]
        rate = rng.gamma(COUNT_SHAPE, mean / COUNT_SHAPE)
        counts[col] = np.clip(rng.poisson(rate), 0, PURCHASE_MAX[col])
    return counts


def draw_flags(rng, types, probs):
    """Draw 0/1 flags with a per-type probability."""
    return (rng.random(len(types)) < np.asarray(probs)[types]).astype(int)


def draw_campaigns(rng, types):
    """Draw campaign acceptances and the last-campaign ``Response`` with per-type rates."""
    names = [*CAMPAIGN_COLUMNS, "Response"]
    return {
        col: draw_flags(rng, types, [t.campaigns[col] for t in CUSTOMER_TYPES]) for col in names
    }


def _wart_count(n, k):
    """Cap a wart count at a tenth of the rows, so small test tables are not mostly warts."""
    return min(k, n // 10)


def plant_warts(rng, df):
    """Reproduce the public file's data-quality problems so cleaning code gets exercised.

    Plants exactly 24 missing incomes, one income of 666666, the birth years 1893, 1899 and
    1900, and seven junk marital statuses (3 Alone, 2 Absurd, 2 YOLO).  For small tables each
    kind of wart is capped at a tenth of the rows (none below 10 rows).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random number generator.
    df : pandas.DataFrame
        Clean customers; modified in place.
    """
    n = len(df)
    n_missing = _wart_count(n, N_MISSING_INCOME)
    n_outlier = _wart_count(n, 1)
    # One draw for all income warts keeps the missing rows and the outlier row distinct.
    income_rows = rng.choice(n, size=n_missing + n_outlier, replace=False)
    df.loc[income_rows[:n_missing], "Income"] = pd.NA
    df.loc[income_rows[n_missing:], "Income"] = OUTLIER_INCOME

    n_birth = _wart_count(n, len(IMPLAUSIBLE_BIRTH_YEARS))
    birth_rows = rng.choice(n, size=n_birth, replace=False)
    df.loc[birth_rows, "Year_Birth"] = IMPLAUSIBLE_BIRTH_YEARS[:n_birth]

    n_marital = _wart_count(n, len(JUNK_MARITAL))
    marital_rows = rng.choice(n, size=n_marital, replace=False)
    df.loc[marital_rows, "Marital_Status"] = JUNK_MARITAL[:n_marital]


def generate_customers(n=DEFAULT_ROWS, seed=DEFAULT_SEED, *, with_type=False):
    """Generate a synthetic customer table in the public file's schema.

    Parameters
    ----------
    n : int, default 2240
        Number of customers (rows).
    seed : int, default DEFAULT_SEED
        Seed for ``numpy.random.default_rng``; the same ``n`` and ``seed`` always give the
        same table.
    with_type : bool, default False
        If True, append a ``Planted_Type`` column with the true type of each customer (not
        part of the export schema; useful to test whether segmentation recovers the types).

    Returns
    -------
    pandas.DataFrame
        One row per customer with the columns of ``COLUMNS`` (plus ``Planted_Type`` if asked).
        ``Income`` is a nullable integer column with missing values.

    Raises
    ------
    ValueError
        If ``n`` is not positive.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    rng = np.random.default_rng(seed)
    types = assign_types(rng, n)
    incomes = draw_incomes(rng, types)

    data = {
        "ID": draw_ids(rng, n),
        "Year_Birth": draw_birth_years(rng, types),
        "Education": draw_categories(
            rng, types, EDUCATION_LEVELS, [t.education for t in CUSTOMER_TYPES]
        ),
        "Marital_Status": draw_categories(
            rng, types, MARITAL_LEVELS, [MARITAL_SHARES] * len(CUSTOMER_TYPES)
        ),
        "Income": pd.array(incomes.astype(np.int64), dtype="Int64"),
        "Kidhome": draw_children(rng, types, "kid_probs"),
        "Teenhome": draw_children(rng, types, "teen_probs"),
        "Dt_Customer": draw_enrolment_dates(rng, n),
        "Recency": draw_recency(rng, types),
        **draw_spend(rng, types, incomes),
        **draw_purchases(rng, types),
        **draw_campaigns(rng, types),
        "Complain": draw_flags(rng, types, [t.complain for t in CUSTOMER_TYPES]),
        "Z_CostContact": np.full(n, Z_COST_CONTACT),
        "Z_Revenue": np.full(n, Z_REVENUE),
    }
    df = pd.DataFrame(data)[COLUMNS]
    plant_warts(rng, df)
    if with_type:
        df["Planted_Type"] = np.array([t.name for t in CUSTOMER_TYPES])[types]
    return df


def write_export(df, path):
    """Write the table the way the public export is written: tabs, CRLF, empty for missing.

    Parameters
    ----------
    df : pandas.DataFrame
        Customers in the export schema.
    path : str or pathlib.Path
        Destination file.
    """
    df.to_csv(path, sep="\t", index=False, lineterminator="\r\n", na_rep="")


def _positive_int(text):
    """Parse a strictly positive integer for argparse, with a readable error otherwise."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args(argv=None):
    """Parse command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
    parser.add_argument(
        "--rows", type=_positive_int, default=DEFAULT_ROWS, help="number of customers"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    return parser.parse_args(argv)


def main(argv=None):
    """Generate the sample file from command-line options."""
    args = parse_args(argv)
    df = generate_customers(n=args.rows, seed=args.seed)
    write_export(df, args.out)
    print(f"wrote {len(df)} rows to {args.out}")


if __name__ == "__main__":
    main()
