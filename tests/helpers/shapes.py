"""Customer tables of shapes other than the Kaggle marketing export, with planted groups.

Every generator is deterministic for a given ``n`` and ``seed`` (``numpy.random.default_rng``)
and returns a :class:`pandas.DataFrame` whose cells look like a real export: whole numbers
as ints, measurements as floats, categories, dates and money as text (``"$9.99"``).

Each frame carries its ground truth in ``frame.attrs``:

``planted``
    ``np.ndarray`` of int group labels, one per row.
``groups``
    tuple of human-readable group names, indexed by label.
``signal``
    numeric columns that carry the planted structure.  In each one, at least two groups have
    means at least 2.5 within-group standard deviations apart (after log scaling the columns
    listed in ``skewed``), so k-means on the standardized signal recovers the groups.
``categorical_signal``
    text columns whose distribution differs by group (empty when there are none).
``skewed``
    signal columns to log-scale before clustering (``sign(x) * log1p(|x|)`` handles negatives).
``noise``
    columns that must not be clustered on by default: codes, calendar parts, sentinels,
    identifiers, leaks and outcomes.  They are built to be tempting to a naive clusterer (few
    distinct integer values, or a large variance) yet independent of the planted group, except
    outcomes that are listed in ``outcomes`` and are allowed to follow the groups.
``outcomes``
    noise columns that are outcomes of the groups (e.g. churn); may be group-dependent.

Group sizes are unequal and each group holds at least 15% of the rows.

``ALL_SHAPES`` maps a shape name to ``(generator, separator)``; :func:`to_bytes` writes a frame
the way the shape's file would arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def to_bytes(frame: pd.DataFrame, sep: str = ",") -> bytes:
    """The frame as a UTF-8 delimited file with a header row and no index column."""
    return frame.to_csv(sep=sep, index=False).encode("utf-8")


def _labels(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    """Shuffled group labels with the given (unequal, each >= 15%) shares of ``n`` rows."""
    counts = [round(share * n) for share in shares[:-1]]
    counts.append(n - sum(counts))
    labels = np.repeat(np.arange(len(counts)), counts)
    return rng.permutation(labels)


def _lognormal(rng: np.random.Generator, kind: np.ndarray, medians: Sequence[float],
               sigma: float) -> np.ndarray:
    """Skewed positive amounts whose log has a per-group mean and a shared sd ``sigma``."""
    centre = np.log(np.asarray(medians, float))[kind]
    return np.exp(centre + rng.normal(0.0, sigma, len(kind)))


def _pick(rng: np.random.Generator, kind: np.ndarray, options: Sequence[str],
          weights: Sequence[Sequence[float]]) -> np.ndarray:
    """One option per row, drawn with the row's group weights."""
    out = np.empty(len(kind), dtype=object)
    for group, probs in enumerate(weights):
        rows = np.flatnonzero(kind == group)
        p = np.asarray(probs, float)
        out[rows] = rng.choice(np.asarray(options, dtype=object), size=len(rows), p=p / p.sum())
    return out


def _money(values: np.ndarray, symbol: str) -> list[str]:
    return [f"{symbol}{value:,.2f}" for value in values]


def _finish(frame: pd.DataFrame, kind: np.ndarray, groups: Sequence[str], signal: Sequence[str],
            noise: Sequence[str], *, skewed: Sequence[str] = (),
            categorical_signal: Sequence[str] = (), outcomes: Sequence[str] = ()) -> pd.DataFrame:
    frame.attrs["planted"] = np.asarray(kind, dtype=int)
    frame.attrs["groups"] = tuple(groups)
    frame.attrs["signal"] = tuple(signal)
    frame.attrs["categorical_signal"] = tuple(categorical_signal)
    frame.attrs["skewed"] = tuple(skewed)
    frame.attrs["noise"] = tuple(noise)
    frame.attrs["outcomes"] = tuple(outcomes)
    return frame


def wholesale(n: int = 440, seed: int = 0) -> pd.DataFrame:
    """B2B wholesale clients: annual spend per product family, no id and no income.

    Groups: 0 hotels/restaurants/cafes (big fresh and frozen), 1 retailers (big grocery,
    milk and detergents/paper), 2 small all-round buyers.  ``Channel`` (1/2) and ``Region``
    (1/2/3) are integer codes drawn independently of the group.
    """
    rng = np.random.default_rng(seed)
    kind = _labels(rng, n, (0.34, 0.24, 0.42))
    sigma = 0.4
    spend = {
        #                    hotels  retail   small
        "Fresh": (22000, 5000, 1800),
        "Milk": (3000, 12000, 1100),
        "Grocery": (3200, 18000, 1400),
        "Frozen": (7000, 1200, 450),
        "Detergents_Paper": (300, 7500, 150),
        "Delicassen": (2600, 1300, 350),
    }
    frame = pd.DataFrame({
        "Channel": rng.choice([1, 2], size=n, p=[0.68, 0.32]),
        "Region": rng.choice([1, 2, 3], size=n, p=[0.17, 0.11, 0.72]),
    })
    for column, medians in spend.items():
        frame[column] = np.maximum(np.rint(_lognormal(rng, kind, medians, sigma)), 3).astype(int)
    return _finish(
        frame, kind,
        groups=("hotels & restaurants", "retailers", "small all-round buyers"),
        signal=tuple(spend), skewed=tuple(spend), noise=("Channel", "Region"),
    )


def bank(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A ``;``-separated bank client file from a term-deposit telemarketing campaign.

    Groups: 0 retirees (age ~66, mostly retired, married, high balance, rarely a housing
    loan), 1 young renters and students (age ~25, single, low and sometimes negative
    balance), 2 mid-career borrowers (age ~42, housing loan, often a personal loan, mid
    balance, management/technician/blue-collar).  Campaign columns (``day``, ``month``,
    ``duration``, ``campaign``, ``pdays``, ``previous``, ``poutcome``, ``y``) are independent
    of the group; ``duration`` follows the outcome ``y`` (a leak).
    """
    rng = np.random.default_rng(seed)
    kind = _labels(rng, n, (0.22, 0.31, 0.47))

    age = np.asarray([66.0, 25.0, 42.0])[kind] + rng.normal(0.0, 3.5, n)
    age = np.clip(np.rint(age), 18, 95).astype(int)
    balance = _lognormal(rng, kind, (9000, 180, 1500), 0.45)
    balance = np.where(kind == 1, balance - 60, balance)  # a few young clients are overdrawn
    balance = np.rint(balance).astype(int)

    jobs = ("admin.", "blue-collar", "technician", "services", "management", "retired",
            "student", "unemployed", "self-employed", "entrepreneur", "housemaid", "unknown")
    job = _pick(rng, kind, jobs, (
        (0.01, 0.02, 0.01, 0.00, 0.06, 0.70, 0.00, 0.02, 0.05, 0.02, 0.08, 0.03),
        (0.14, 0.03, 0.05, 0.22, 0.00, 0.00, 0.42, 0.09, 0.01, 0.00, 0.01, 0.03),
        (0.08, 0.24, 0.24, 0.04, 0.28, 0.00, 0.00, 0.01, 0.04, 0.06, 0.00, 0.01),
    ))
    marital = _pick(rng, kind, ("married", "single", "divorced"),
                    ((0.74, 0.05, 0.21), (0.10, 0.87, 0.03), (0.70, 0.15, 0.15)))
    education = _pick(rng, kind, ("primary", "secondary", "tertiary", "unknown"),
                      ((0.36, 0.40, 0.14, 0.10), (0.05, 0.56, 0.35, 0.04),
                       (0.13, 0.45, 0.39, 0.03)))
    housing = _pick(rng, kind, ("yes", "no"), ((0.08, 0.92), (0.12, 0.88), (0.90, 0.10)))
    loan = _pick(rng, kind, ("yes", "no"), ((0.04, 0.96), (0.08, 0.92), (0.45, 0.55)))

    default = rng.choice(np.array(["no", "yes"], dtype=object), size=n, p=[0.98, 0.02])
    contact = rng.choice(np.array(["cellular", "telephone", "unknown"], dtype=object), size=n,
                         p=[0.65, 0.07, 0.28])
    month_index = rng.choice(12, size=n, p=np.array(
        [3, 6, 4, 6, 30, 12, 15, 14, 1, 2, 7, 0.5]) / 100.5)
    month = np.asarray(MONTHS, dtype=object)[month_index]
    day = 1 + np.floor(rng.random(n) * np.asarray(MONTH_DAYS)[month_index]).astype(int)
    campaign = np.minimum(rng.geometric(0.38, size=n), 40)

    contacted = rng.random(n) < 0.25
    pdays = np.where(contacted, rng.integers(1, 400, size=n), -1)
    previous = np.where(contacted, 1 + rng.poisson(1.5, size=n), 0)
    poutcome = np.where(
        contacted,
        rng.choice(np.array(["failure", "other", "success"], dtype=object), size=n,
                   p=[0.60, 0.22, 0.18]),
        "unknown",
    ).astype(object)
    y_rate = np.where(poutcome == "success", 0.6, 0.095)
    said_yes = rng.random(n) < y_rate
    y = np.where(said_yes, "yes", "no").astype(object)
    call_log = np.where(said_yes, np.log(500) + rng.normal(0.0, 0.55, n),
                        np.log(170) + rng.normal(0.0, 0.7, n))
    duration = np.exp(call_log)
    duration = np.maximum(np.rint(duration), 1).astype(int)

    frame = pd.DataFrame({
        "age": age, "job": job, "marital": marital, "education": education,
        "default": default, "balance": balance, "housing": housing, "loan": loan,
        "contact": contact, "day": day, "month": month, "duration": duration,
        "campaign": campaign, "pdays": pdays, "previous": previous, "poutcome": poutcome,
        "y": y,
    })
    return _finish(
        frame, kind,
        groups=("retirees", "young renters & students", "mid-career borrowers"),
        signal=("age", "balance"), skewed=("balance",),
        categorical_signal=("job", "marital", "housing", "loan"),
        noise=("day", "month", "duration", "pdays", "y", "campaign"),
        outcomes=("y",),
    )


def subscription(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A subscription app's user table: plan, usage over the last 30 days, churn.

    Groups: 0 power users (many long sessions, many features), 1 casual users, 2 dormant
    users (almost no sessions or minutes).  ``monthly_fee`` is fixed by ``plan``;
    ``country`` and ``signup_date`` (hence ``signup_weekday``) are independent of the group;
    ``churned`` is the outcome and is much higher for dormant users.
    """
    rng = np.random.default_rng(seed)
    kind = _labels(rng, n, (0.19, 0.46, 0.35))

    user_id = [f"u{number:06d}" for number in 100 + rng.permutation(n) * 7]
    plans = ("free", "basic", "pro", "team")
    fees = {"free": 0.0, "basic": 9.99, "pro": 19.99, "team": 49.99}
    plan = _pick(rng, kind, plans, ((0.10, 0.25, 0.45, 0.20), (0.40, 0.40, 0.15, 0.05),
                                    (0.65, 0.28, 0.06, 0.01)))
    start = np.datetime64("2021-01-01")
    signup = start + rng.integers(0, 1280, size=n).astype("timedelta64[D]")
    signup_date = pd.DatetimeIndex(signup)

    dormant = kind == 2
    sessions = np.rint(_lognormal(rng, kind, (60, 14, 1), 0.3)).astype(int)
    sessions = np.where(dormant, rng.poisson(0.7, size=n), sessions)
    minutes = _lognormal(rng, kind, (1500, 190, 1), 0.35)
    minutes = np.where(dormant, sessions * np.exp(np.log(4) + rng.normal(0.0, 0.5, n)), minutes)
    minutes = np.round(minutes, 1)
    features = np.asarray([13.0, 5.0, 0.0])[kind] + rng.normal(0.0, 1.5, n)
    features = np.where(dormant, np.minimum(rng.poisson(0.6, size=n), sessions + 1), features)
    features = np.clip(np.rint(features), 0, 20).astype(int)
    tickets = rng.poisson(np.asarray([0.9, 0.4, 0.15])[kind])
    churned = (rng.random(n) < np.asarray([0.03, 0.10, 0.45])[kind]).astype(int)
    country = rng.choice(np.array(["US", "GB", "DE", "FR", "CA", "NL", "ES"], dtype=object),
                         size=n, p=[0.38, 0.16, 0.14, 0.11, 0.09, 0.07, 0.05])

    frame = pd.DataFrame({
        "user_id": user_id,
        "plan": plan,
        "signup_date": signup_date.strftime("%Y-%m-%d"),
        "sessions_30d": sessions,
        "minutes_30d": minutes,
        "features_used": features,
        "support_tickets": tickets,
        "monthly_fee": _money(np.asarray([fees[p] for p in plan]), "$"),
        "country": country,
        "churned": churned,
        "signup_weekday": np.asarray(WEEKDAYS, dtype=object)[signup_date.day_of_week],
    })
    return _finish(
        frame, kind,
        groups=("power users", "casual users", "dormant users"),
        signal=("sessions_30d", "minutes_30d", "features_used"),
        skewed=("sessions_30d", "minutes_30d"),
        noise=("user_id", "churned", "signup_weekday", "country"),
        outcomes=("churned",),
    )


def retail_no_id(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """A small retailer's customer list whose identifier is a plain running number.

    Groups: 0 frequent high-basket shoppers, 1 occasional shoppers, 2 lapsed customers (last
    order months ago, at least twice the others' mean).  ``customer_ref`` is 1..n in file
    order and ``store_pref`` is drawn independently of the group.
    """
    rng = np.random.default_rng(seed)
    kind = _labels(rng, n, (0.21, 0.48, 0.31))

    days = np.rint(_lognormal(rng, kind, (9, 45, 270), 0.3)).astype(int)
    days = np.maximum(days, 1)
    orders = np.rint(_lognormal(rng, kind, (22, 5, 1), 0.25)).astype(int)
    lapsed = kind == 2
    orders = np.where(lapsed, (days <= 365) * (1 + rng.poisson(0.3, size=n)), orders)
    basket = _lognormal(rng, kind, (72, 27, 25), 0.2)
    returns = rng.binomial(orders, 0.07)
    newsletter = rng.random(n) < np.asarray([0.62, 0.38, 0.30])[kind]
    store_pref = rng.choice(np.array(["online", "high street", "outlet"], dtype=object),
                            size=n, p=[0.5, 0.3, 0.2])

    frame = pd.DataFrame({
        "customer_ref": np.arange(1, n + 1),
        "orders_12m": orders,
        "avg_basket": _money(basket, "£"),
        "days_since_last_order": days,
        "returns_12m": returns,
        "newsletter": np.where(newsletter, "true", "false").astype(object),
        "store_pref": store_pref,
    })
    return _finish(
        frame, kind,
        groups=("frequent high-basket", "occasional", "lapsed"),
        signal=("orders_12m", "avg_basket", "days_since_last_order"),
        skewed=("orders_12m", "avg_basket", "days_since_last_order"),
        noise=("customer_ref", "store_pref"),
    )


ALL_SHAPES: dict[str, tuple[Callable[..., pd.DataFrame], str]] = {
    "wholesale": (wholesale, ","),
    "bank": (bank, ";"),
    "subscription": (subscription, ","),
    "retail_no_id": (retail_no_id, ","),
}
