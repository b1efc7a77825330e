"""What each column of a customer table means: its kind and role, with the reason.

Every column gets a *kind* (identifier, category, binary, measure, money,
date, calendar part, outcome, sentinel-coded measure, leak, free text,
constant), detected from its values and its name, and a *role*: the kind
itself, or a finer word of the retail vocabulary (income, spend per product
category, purchases per channel, recency ...) when the name says so. Only
this module knows what a column means; everything downstream asks for roles
and kinds. :func:`describe_columns` says why it chose each one;
:func:`detect_roles` returns the plain ``{column: role}`` dict that callers
may edit and pass back, and nothing downstream re-detects behind their back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd

from segmentation.config import (
    CATEGORY_UNIQUE_SHARE,
    CURRENCY_SHARE,
    MAX_CODE_LEVELS,
    MAX_TEXT_CATEGORIES,
    NUMERIC_SHARE,
    SENTINEL_MIN_SHARE,
)
from segmentation.data.customer_file import to_number


class Role(StrEnum):
    """The part a column plays. Only some roles can be clustered on."""

    ID = "id"
    INCOME = "income"
    BIRTH_YEAR = "birth_year"
    AGE = "age"
    CHILDREN = "children"
    MARITAL_STATUS = "marital_status"
    EDUCATION = "education"
    SIGNUP_DATE = "signup_date"
    RECENCY = "recency"
    SPEND = "spend"
    CHANNEL = "channel_purchases"
    WEB_VISITS = "web_visits"
    DEALS = "deal_purchases"
    CAMPAIGN = "campaign_response"
    COMPLAINT = "complaint"
    OTHER_NUMERIC = "other_numeric"  # a measure: amount, count, duration ...
    OVERDUE = "overdue"  # days since the last order in units of the customer's own gap
    MONEY = "money"
    BINARY = "binary"
    OUTCOME = "outcome"
    SENTINEL = "sentinel_measure"
    CALENDAR = "calendar"
    DATE = "date"
    LEAK = "leak"
    CATEGORY = "category"
    CONSTANT = "constant"
    TEXT = "text"
    IGNORE = "ignore"


class Kind(StrEnum):
    """What sort of values a column holds, whatever the dataset."""

    IDENTIFIER = "identifier"
    CATEGORY = "category"
    BINARY = "binary"
    MEASURE = "measure"
    MONEY = "money"
    DATE = "date"
    CALENDAR = "calendar"
    OUTCOME = "outcome"
    SENTINEL = "sentinel"
    LEAK = "leak"
    TEXT = "text"
    CONSTANT = "constant"
    IGNORED = "ignored"


KIND_OF_ROLE = {
    Role.ID: Kind.IDENTIFIER,
    Role.INCOME: Kind.MONEY,
    Role.BIRTH_YEAR: Kind.MEASURE,
    Role.AGE: Kind.MEASURE,
    Role.CHILDREN: Kind.MEASURE,
    Role.MARITAL_STATUS: Kind.CATEGORY,
    Role.EDUCATION: Kind.CATEGORY,
    Role.SIGNUP_DATE: Kind.DATE,
    Role.RECENCY: Kind.MEASURE,
    Role.SPEND: Kind.MONEY,
    Role.CHANNEL: Kind.MEASURE,
    Role.WEB_VISITS: Kind.MEASURE,
    Role.DEALS: Kind.MEASURE,
    Role.CAMPAIGN: Kind.OUTCOME,
    Role.COMPLAINT: Kind.BINARY,
    Role.OTHER_NUMERIC: Kind.MEASURE,
    Role.OVERDUE: Kind.MEASURE,
    Role.MONEY: Kind.MONEY,
    Role.BINARY: Kind.BINARY,
    Role.OUTCOME: Kind.OUTCOME,
    Role.SENTINEL: Kind.SENTINEL,
    Role.CALENDAR: Kind.CALENDAR,
    Role.DATE: Kind.DATE,
    Role.LEAK: Kind.LEAK,
    Role.CATEGORY: Kind.CATEGORY,
    Role.CONSTANT: Kind.CONSTANT,
    Role.TEXT: Kind.TEXT,
    Role.IGNORE: Kind.IGNORED,
}

#: A kind, named on its own (``--roles "Region=category"``), means this role.
ROLE_OF_KIND = {
    Kind.IDENTIFIER: Role.ID,
    Kind.CATEGORY: Role.CATEGORY,
    Kind.BINARY: Role.BINARY,
    Kind.MEASURE: Role.OTHER_NUMERIC,
    Kind.MONEY: Role.MONEY,
    Kind.DATE: Role.DATE,
    Kind.CALENDAR: Role.CALENDAR,
    Kind.OUTCOME: Role.OUTCOME,
    Kind.SENTINEL: Role.SENTINEL,
    Kind.LEAK: Role.LEAK,
    Kind.TEXT: Role.TEXT,
    Kind.CONSTANT: Role.CONSTANT,
    Kind.IGNORED: Role.IGNORE,
}

ROLE_LABELS = {
    Role.ID: "Customer id",
    Role.INCOME: "Income",
    Role.BIRTH_YEAR: "Birth year",
    Role.AGE: "Age",
    Role.CHILDREN: "Household: children",
    Role.MARITAL_STATUS: "Household: marital status",
    Role.EDUCATION: "Education (ordered levels)",
    Role.SIGNUP_DATE: "Signup date",
    Role.RECENCY: "Recency (days since last purchase)",
    Role.SPEND: "Spend in a product category",
    Role.CHANNEL: "Purchases in a channel",
    Role.WEB_VISITS: "Web visits",
    Role.DEALS: "Deal purchases",
    Role.CAMPAIGN: "Campaign response",
    Role.COMPLAINT: "Complaint",
    Role.OTHER_NUMERIC: "Measure (amount, count, duration)",
    Role.OVERDUE: "Recency in units of the customer's own order gap",
    Role.MONEY: "Money (balance, revenue, fee)",
    Role.BINARY: "Yes/no flag",
    Role.OUTCOME: "Outcome (response, churn, conversion)",
    Role.SENTINEL: "Measure with a 'not applicable' code",
    Role.CALENDAR: "Calendar part (day, month, weekday)",
    Role.DATE: "Other date",
    Role.LEAK: "Recorded after the outcome (leak)",
    Role.CATEGORY: "Category",
    Role.CONSTANT: "Constant (excluded)",
    Role.TEXT: "Free text (excluded)",
    Role.IGNORE: "Ignored",
}

KIND_LABELS = {
    Kind.IDENTIFIER: "identifier",
    Kind.CATEGORY: "category",
    Kind.BINARY: "yes/no",
    Kind.MEASURE: "measure",
    Kind.MONEY: "money",
    Kind.DATE: "date",
    Kind.CALENDAR: "calendar part",
    Kind.OUTCOME: "outcome",
    Kind.SENTINEL: "measure with a 'not applicable' code",
    Kind.LEAK: "recorded after the outcome",
    Kind.TEXT: "free text",
    Kind.CONSTANT: "constant",
    Kind.IGNORED: "ignored",
}

#: Roles whose values are numbers.
NUMERIC_ROLES = frozenset(
    {
        Role.INCOME,
        Role.BIRTH_YEAR,
        Role.AGE,
        Role.CHILDREN,
        Role.RECENCY,
        Role.SPEND,
        Role.CHANNEL,
        Role.WEB_VISITS,
        Role.DEALS,
        Role.CAMPAIGN,
        Role.COMPLAINT,
        Role.OTHER_NUMERIC,
        Role.OVERDUE,
        Role.MONEY,
        Role.SENTINEL,
    }
)
#: Roles whose values are yes/no, read as 1/0.
BINARY_ROLES = frozenset({Role.BINARY, Role.OUTCOME})
#: Roles kept as text and described by the share of each value.
CATEGORY_ROLES = frozenset({Role.CATEGORY, Role.MARITAL_STATUS, Role.EDUCATION, Role.CALENDAR})
#: Roles never used as clustering variables, whatever the caller asks.
NEVER_CLUSTERED = frozenset({Role.ID, Role.CONSTANT, Role.TEXT, Role.IGNORE})

SENTINEL_VALUES = (-1.0, -99.0, -999.0, 99.0, 999.0, 9999.0, 99999.0)
_CURRENCY_SIGN = re.compile(r"[$€£¥]|(?i:\b(?:usd|eur|gbp)\b)")

_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "0.0"})
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = frozenset(_MONTHS) | {
    "january", "february", "march", "april", "june", "july", "august", "september",
    "sept", "october", "november", "december"}
_WEEKDAY_NAMES = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat",
                            "sun", "monday", "tuesday", "wednesday", "thursday", "friday",
                            "saturday", "sunday"})

# (role, pattern on the normalised name); the first match wins, so the
# specific patterns come before the general ones ("NumDealsPurchases" is a
# deal count, not a channel; "Z_Revenue" is a constant, not spend).
_NAME_RULES: tuple[tuple[Role, re.Pattern], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        (Role.CONSTANT, r"^z_"),
        (Role.ID, r"^(id|customer|customer_?(id|no|num|number|code|key)|cust_?(id|no)|client_?id"
                  r"|account_?(id|no)|user_?id|member_?id|.*_id)$"),
        (Role.BIRTH_YEAR, r"(year_?(of_?)?birth|birth_?year|^yob$|born)"),
        (Role.AGE, r"^(customer_?)?age(_years)?$"),
        (Role.INCOME, r"(income|salary|earnings|wage)"),
        (Role.CHILDREN, r"(kid|teen|child|minor|dependant|dependent)"),
        (Role.MARITAL_STATUS, r"(marital|relationship|civil_?status|married)"),
        (Role.EDUCATION, r"(education|degree|qualification|schooling)"),
        (Role.SIGNUP_DATE, r"(dt_customer|sign_?up|join|registration|registered|customer_?since"
                           r"|first_?purchase|created|enrol)"),
        (Role.RECENCY, r"(recency|days_?since|last_?purchase|last_?order)"),
        (Role.WEB_VISITS, r"(web_?visit|site_?visit|visits)"),
        (Role.DEALS, r"(deal|discount|promo|coupon)"),
        (Role.CAMPAIGN, r"(accepted|^response$|cmp\d)"),
        (Role.OUTCOME, r"(^(y|target|label|outcome|converted|conversion|churn|churned|exited"
                       r"|attrited|attrition|subscribed|responded|accepted)$"
                       r"|_(target|outcome|label)$|churn|converted|responded)"),
        (Role.COMPLAINT, r"complain"),
        (Role.CHANNEL, r"(^num.*purchases$|(web|catalog|catalogue|store|shop|online|instore|app"
                       r"|mobile|phone|mail).*(purchase|order|buy|transaction)s?)"),
        (Role.SPEND, r"(^mnt|spend|spent|_prods?$)"),
        (Role.MONEY, r"(balance|revenue|sales|amount|turnover|fee|price|cost|paid|payment|basket"
                     r"|value|ltv|clv|gmv|premium|salary|profit|margin)"),
        (Role.CALENDAR, r"(^(day|dom|day_?of_?month|month|mon|mth|weekday|week_?day|dow"
                        r"|day_?of_?week|week|week_?of_?year|quarter|qtr|hour)$"
                        r"|_(day|month|weekday|dow|hour|quarter|day_?of_?week|day_?of_?month)$)"),
    )
)
# Names of facts recorded during the contact that produced the outcome: known
# only afterwards, so they leak it (a long call is a call that converted).
_LEAK_NAME = re.compile(r"(duration|call_?(length|time|sec|secs|seconds|minutes)|talk_?time"
                        r"|^campaign$|this_?campaign|contacts?_?(this|current)|n_?calls)")
# Names that say a small set of whole numbers is a code, not a count.
_CODE_NAME = re.compile(r"(region|channel|type|code|class|group|zone|area|segment|tier|plan"
                        r"|category|status|cluster|branch|store|country|state|gender|sex"
                        r"|level|grade|band|flag|kind|format)")
# Names that say a small set of whole numbers is a count after all.
_COUNT_NAME = re.compile(r"(^n_|^num|count|number|qty|quantity|size|times|visits|orders"
                         r"|purchases|items|tickets|calls|days|weeks|months|years|members"
                         r"|people|persons|rooms|cars|products|sessions|logins|score|rating)")

_SPEND_CATEGORIES = (
    ("wine", r"wine"),
    ("fruit", r"fruit"),
    ("meat", r"meat"),
    ("fish", r"fish|seafood"),
    ("sweets", r"sweet|candy|confection"),
    ("gold", r"gold|jewel|premium"),
)
_CHANNELS = (
    ("web", r"web|online|internet|site"),
    ("catalog", r"catalog|catalogue|mail"),
    ("store", r"store|shop|retail|instore"),
    ("app", r"app|mobile"),
)
# Education levels, ordered; a column is ordinal only when every level is known.
EDUCATION_LEVELS = (
    (1, r"^(basic|primary|elementary|none|no_?school)"),
    (2, r"(secondary|high_?school|gcse|lower_?secondary|middle_?school)"),
    (3, r"(2n_?cycle|associate|college|diploma|vocational|some_?college|post_?secondary)"),
    (4, r"(graduat|bachelor|undergrad|licen|tertiary|university|degree)"),
    (5, r"(master|mba|msc|postgrad)"),
    (6, r"(phd|doctor)"),
)
# Education values that say "we do not know", not a level.
_UNKNOWN_LEVEL = re.compile(r"^(unknown|not_?known|other|unspecified|prefer_?not)$")


@dataclass(frozen=True)
class ColumnMeaning:
    """A column's detected kind and role, and why.

    Attributes
    ----------
    column : str
    role : str
        A :class:`Role` value.
    kind : str
        A :class:`Kind` value (follows from the role).
    reason : str
        One sentence a user can check against the column.
    sentinel : float or None
        For a sentinel-coded measure, the "not applicable" code.
    """

    column: str
    role: str
    kind: str
    reason: str
    sentinel: float | None = None


def kind_of(role: str) -> str:
    """The kind behind a role (``"spend"`` → ``"money"``)."""
    return str(KIND_OF_ROLE[Role(role)])


def parse_role(text: str) -> str:
    """A role or kind as a user may type it (``"money"``, ``"Measure"``, ``"spend"``) → a role.

    Raises ``ValueError`` for a word that is neither.
    """
    key = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"measure": Role.OTHER_NUMERIC, "number": Role.OTHER_NUMERIC,
               "numeric": Role.OTHER_NUMERIC, "code": Role.CATEGORY, "codes": Role.CATEGORY,
               "flag": Role.BINARY, "yes_no": Role.BINARY, "identifier": Role.ID,
               "sentinel": Role.SENTINEL, "free_text": Role.TEXT, "ignored": Role.IGNORE,
               "calendar_part": Role.CALENDAR, "channel": Role.CHANNEL}
    if key in {r.value for r in Role}:
        return Role(key).value
    if key in aliases:
        return aliases[key].value
    if key in {k.value for k in Kind}:
        return ROLE_OF_KIND[Kind(key)].value
    raise ValueError(key)


def _normalise_name(name: str) -> str:
    """``"NumWebPurchases"`` → ``"num_web_purchases"``; spaces and dashes become ``_``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def spend_category(column: str) -> str | None:
    """The product category a spend column is about (``"wine"``, ``"meat"`` ...), if known."""
    key = _normalise_name(column)
    return next((cat for cat, pattern in _SPEND_CATEGORIES if re.search(pattern, key)), None)


def channel_name(column: str) -> str | None:
    """The sales channel a purchase-count column is about (``"web"``, ``"store"`` ...), if known."""
    key = _normalise_name(column).replace("web_visits", "")
    return next((ch for ch, pattern in _CHANNELS if re.search(pattern, key)), None)


def education_rank(value) -> float:
    """The ordinal level (1 basic .. 6 doctorate) of one education value; NaN if unknown."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    key = re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_")
    return next((float(lv) for lv, pattern in EDUCATION_LEVELS if re.search(pattern, key)),
                np.nan)


def _unrecognised_education(values: pd.Series) -> list[str]:
    """Distinct education values that are neither a known level nor a "don't know"."""
    distinct = pd.Series(values.dropna().astype(str).unique())
    return [v for v in distinct
            if np.isnan(education_rank(v))
            and not _UNKNOWN_LEVEL.match(re.sub(r"[^a-z0-9]+", "_", v.strip().lower()))]


def detect_roles(frame: pd.DataFrame, decimal: str = ".") -> dict[str, str]:
    """Guess the role of every column from its name and its values.

    Parameters
    ----------
    frame : DataFrame
        The table as read (see :func:`segmentation.data.customer_file.read_table`).
    decimal : str
        The decimal mark used by text numbers.

    Returns
    -------
    dict
        ``{column: role}`` with role values from :class:`Role`, in column order.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["007", "008"], "wine_spend": ["10", "20"],
    ...                       "Z_Revenue": ["11", "11"]})
    >>> detect_roles(frame)
    {'customer_id': 'id', 'wine_spend': 'spend', 'Z_Revenue': 'constant'}
    """
    return {col: m.role for col, m in describe_columns(frame, decimal).items()}


def describe_columns(frame: pd.DataFrame, decimal: str = ".", *,
                     missing: dict[str, np.ndarray] | None = None,
                     parsed: dict[str, pd.Series] | None = None) -> dict[str, ColumnMeaning]:
    """Every column's kind, role and the reason, in column order.

    Detection looks at one column at a time, except for leaks, which are only
    leaks when the file has an outcome for them to leak.

    Parameters
    ----------
    frame : DataFrame
        The table as read.
    decimal : str
        The decimal mark used by text numbers.
    missing : dict, optional
        ``{column: boolean array}``, each column's ``isna`` when the caller has it.
    parsed : dict, optional
        Filled with ``{column: numbers}`` (every row, as :func:`to_number` reads it) for
        the columns detection read as numbers, so a caller typing them need not parse
        them again.
    """
    parsed = {} if parsed is None else parsed
    out = {}
    for col in frame.columns:
        series = frame[col]
        absent = missing[col] if missing is not None else series.isna().to_numpy()
        out[col] = _describe_one(col, series, decimal, absent, parsed)
    outcomes = [c for c, m in out.items() if m.kind == Kind.OUTCOME]
    if outcomes:
        for col, m in out.items():
            if (m.kind in {Kind.MEASURE, Kind.MONEY} and m.role in {Role.OTHER_NUMERIC, Role.MONEY}
                    and _LEAK_NAME.search(_normalise_name(col))):
                out[col] = ColumnMeaning(
                    col, Role.LEAK.value, Kind.LEAK.value,
                    f"describes the contact that produced the outcome {outcomes[0]!r}, so it is "
                    "known only afterwards and would leak it into the segments")
    return out


def _sentinel_of(series: pd.Series, decimal: str = ".") -> float | None:
    """The "not applicable" code of a numeric column, if it has one (see ``SENTINEL_VALUES``)."""
    numbers = to_number(series, decimal).to_numpy()
    return _sentinel_in(numbers[~np.isnan(numbers)])


def _sentinel_in(numbers: np.ndarray) -> float | None:
    """:func:`_sentinel_of` of a column's numbers, missing ones left out."""
    # numpy, not pandas: run once per numeric column, so a file with thousands of
    # columns pays pandas' per-call overhead thousands of times
    if len(numbers) < 20:
        return None
    for code in SENTINEL_VALUES:
        hit = numbers == code
        share = float(hit.mean())
        if share < SENTINEL_MIN_SHARE or share > 0.98:
            continue
        rest = numbers[~hit]
        if code < 0 and rest.min() >= 0:
            return code
        if code > 0 and rest.max() < code and rest.max() <= code / 2:
            return code
    return None


def _meaning(col: str, role: Role, reason: str, sentinel: float | None = None) -> ColumnMeaning:
    return ColumnMeaning(col, role.value, KIND_OF_ROLE[role].value, reason, sentinel)


def _describe_one(column: str, series: pd.Series, decimal: str, missing: np.ndarray,
                  parsed: dict[str, pd.Series]) -> ColumnMeaning:
    """The column's meaning; its numbers go into ``parsed`` when it is read as numbers."""
    present = series[~missing]  # series.dropna(), the missing cells being known
    if present.empty:
        return _meaning(column, Role.CONSTANT, "empty in every row")
    if pd.api.types.is_float_dtype(present.dtype) and not np.isfinite(present.to_numpy()).any():
        return _meaning(column, Role.CONSTANT, "no finite number in any row (only infinities)")
    text = present.astype(str).str.strip()
    distinct = text.unique()
    key = _normalise_name(column)
    by_name = next((role for role, pattern in _NAME_RULES if pattern.search(key)), None)
    if len(distinct) <= 1 and not (by_name is Role.ID and len(present) == 1):
        # A column named as the id with a single id (the rest blank) is still the id column.
        return _meaning(column, Role.CONSTANT, f"the same value ({distinct[0]!r}) in every row")
    if by_name is Role.CONSTANT:
        return _meaning(column, Role.CONSTANT, "a Z_ column: a constant of the export")
    if by_name is Role.ID:
        return _meaning(column, Role.ID, "its name says it identifies the customer")

    lowered = pd.Series(distinct).str.lower()
    counted = by_name in NUMERIC_ROLES and by_name not in {Role.CAMPAIGN, Role.COMPLAINT} \
        and lowered.isin({"0", "1", "0.0", "1.0"}).all()  # e.g. a count that is 0 or 1 here
    if (len(distinct) == 2 and lowered.isin(_TRUE | _FALSE).all() and lowered.isin(_TRUE).any()
            and not counted):
        if by_name is Role.CAMPAIGN:
            return _meaning(column, Role.CAMPAIGN, "yes/no values, and its name says a campaign "
                                                   "response")
        if by_name is Role.COMPLAINT:
            return _meaning(column, Role.COMPLAINT, "yes/no values, and its name says a complaint")
        if by_name is Role.OUTCOME:
            return _meaning(column, Role.OUTCOME, "yes/no values, and its name says an outcome "
                                                  "(response, churn, conversion)")
        return _meaning(column, Role.BINARY, f"two values only ({_pair(distinct)})")

    # Every row parsed (each cell on its own, so the present ones read as they would
    # alone): a column of numbers is parsed once for detection and typing both.
    every = to_number(series, decimal)
    numbers = every[~missing]
    numeric = numbers.notna().mean() >= NUMERIC_SHARE
    if numeric:
        parsed[column] = every
        return _describe_number(column, key, by_name, present, numbers.dropna(), text, decimal)
    return _describe_text(column, key, by_name, present, text, lowered)


def _describe_number(column, key, by_name, present, numbers, text, decimal) -> ColumnMeaning:
    whole = bool(np.all(np.isclose(numbers % 1, 0)))
    n_levels = numbers.nunique()
    unique = n_levels == len(present) and len(present) >= 20
    if unique and whole and by_name is None:
        span = numbers.max() - numbers.min() + 1
        if span <= 1.5 * len(numbers):
            return _meaning(column, Role.ID, "a different whole number in every row, nearly "
                                             "consecutive: a row or customer number")
    if by_name is Role.CALENDAR and whole:
        return _meaning(column, Role.CALENDAR, "whole numbers named like a day, month or weekday: "
                                               "a calendar part, not a behaviour")
    code = _sentinel_in(numbers.to_numpy())
    if code is not None:
        share = float((numbers == code).mean())
        return _meaning(column, Role.SENTINEL,
                        f"{share:.0%} of rows hold {code:g}, outside the range of the other values: "
                        "read as 'not applicable', split into a flag and a measure", code)
    if by_name in NUMERIC_ROLES and by_name not in {Role.CAMPAIGN, Role.COMPLAINT}:
        if by_name is Role.MONEY:
            return _meaning(column, Role.MONEY, "numbers, and its name says money")
        return _meaning(column, by_name, f"numbers, and its name says {ROLE_LABELS[by_name].lower()}")
    if by_name is Role.EDUCATION:
        return _meaning(column, Role.CATEGORY, "numbers named like education: kept as codes")
    if whole and n_levels <= MAX_CODE_LEVELS:
        levels = np.sort(numbers.unique())
        code_name = bool(_CODE_NAME.search(key)) and not _COUNT_NAME.search(key)
        one_to_n = levels[0] >= 1 and np.array_equal(levels, np.arange(levels[0], levels[0] + len(levels)))
        if code_name or (one_to_n and len(levels) <= 6 and levels[0] == 1
                         and not _COUNT_NAME.search(key)):
            return _meaning(column, Role.CATEGORY,
                            f"a few whole numbers ({_levels(levels)}) "
                            + ("named like a code" if code_name else "from 1 with no zero")
                            + ": codes, never averaged")
    # the pattern's inline flag sends pandas to Python's re cell by cell: each distinct
    # text is searched once instead, counted as often as it occurs
    counts = text.value_counts(sort=False)
    signs = int(counts[[bool(_CURRENCY_SIGN.search(v)) for v in counts.index]].sum())
    currency = signs / len(text) >= CURRENCY_SHARE
    if currency:
        return _meaning(column, Role.MONEY, "amounts written with a currency sign")
    if by_name is Role.CALENDAR:
        return _meaning(column, Role.OTHER_NUMERIC, "numbers (named like a calendar part, but not "
                                                    "whole numbers)")
    return _meaning(column, Role.OTHER_NUMERIC, "numbers")


def _describe_text(column, key, by_name, present, text, lowered) -> ColumnMeaning:
    if lowered.isin(_MONTH_NAMES).all() or lowered.isin(_WEEKDAY_NAMES).all():
        return _meaning(column, Role.CALENDAR, "month or weekday names: a calendar part, not a "
                                               "behaviour")
    if _looks_like_dates(present):
        if by_name is Role.SIGNUP_DATE:
            return _meaning(column, Role.SIGNUP_DATE, "dates, and its name says when the customer "
                                                       "joined")
        return _meaning(column, Role.DATE, "dates")
    n_distinct = len(lowered)
    if by_name is Role.MARITAL_STATUS:
        return _meaning(column, Role.MARITAL_STATUS, "text named like a marital status")
    if by_name is Role.EDUCATION:
        unknown = _unrecognised_education(present)
        if not unknown:
            return _meaning(column, Role.EDUCATION, "every value is a known education level: "
                                                    "read in order")
        return _meaning(column, Role.CATEGORY,
                        f"named like education, but {_pair(unknown[:3])} "
                        f"{'is' if len(unknown) == 1 else 'are'} not a known level: kept as a "
                        "category, not put in order")
    unique_share = n_distinct / max(len(present), 1)
    if n_distinct == len(present) and len(present) >= 20 and not text.str.contains(r"\s").any():
        return _meaning(column, Role.ID, "a different code in every row: an identifier")
    if n_distinct <= MAX_TEXT_CATEGORIES or unique_share <= CATEGORY_UNIQUE_SHARE:
        return _meaning(column, Role.CATEGORY, f"text with {n_distinct} distinct values")
    return _meaning(column, Role.TEXT, f"text with {n_distinct:,} distinct values: free text")


def _pair(values) -> str:
    return ", ".join(repr(str(v)) for v in values)


def _levels(levels) -> str:
    shown = ", ".join(f"{v:g}" for v in levels[:6])
    return shown + (", ..." if len(levels) > 6 else "")


def _looks_like_dates(present: pd.Series) -> bool:
    sample = present.head(200)
    return bool(_parse_dates(sample).notna().mean() >= 0.95)  # sample has no missing


def _to_binary(series: pd.Series) -> pd.Series:
    """Yes/no, true/false, y/n, 1/0 → 1.0/0.0; anything else is missing."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = series.astype(float)
        return values.where(values.isin([0.0, 1.0]))
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=series.index, dtype=float)
    out[text.isin(_TRUE).fillna(False).to_numpy(bool)] = 1.0
    out[text.isin(_FALSE).fillna(False).to_numpy(bool)] = 0.0
    return out


def _parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates written year-first or day-first (``"04-09-2012"`` is 4 September).

    Day-first is assumed for ``dd-mm-yyyy`` and ``dd/mm/yyyy`` unless a value's
    first field exceeds 12 in the second position, which proves month-first.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("datetime64[us]")
    present_values = series.dropna()
    # A column of text alone holds no date cells: checked in C, not cell by cell.
    if pd.api.types.infer_dtype(present_values, skipna=True) != "string" and len(
            present_values) and present_values.map(
            lambda v: isinstance(v, datetime | date)).mean() >= 0.95:
        # Cells that already are dates (Excel), not text to be parsed.
        return pd.to_datetime(series, errors="coerce").astype("datetime64[us]")
    # A million sign-up dates hold a few thousand distinct days: each is parsed once.
    codes, distinct = pd.factorize(series.astype("string").str.strip(), use_na_sentinel=True)
    dates = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[us]")
    if len(distinct):
        counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
        parsed = _parse_date_text(pd.Series(distinct, dtype="string"), counts)
        dates[codes >= 0] = parsed.to_numpy(dtype="datetime64[us]")[codes[codes >= 0]]
    return pd.Series(dates, index=series.index, dtype="datetime64[us]")


def _parse_date_text(text: pd.Series, counts: np.ndarray) -> pd.Series:
    """The dates of distinct texts (none missing), the ``counts[i]`` rows holding
    ``text[i]`` weighing in the decisions as they would row by row."""
    # Every date format read here has digits. pandas reads "now" and "today" as the clock's
    # date, which would make a run depend on the day it is run: without a digit, no date.
    # And a text column without any digit (a status, a region) is settled here, before four
    # date parsers try each of its values.
    has_digit = text.str.contains(r"\d", regex=True).fillna(False).to_numpy(bool)
    if not has_digit.any():
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    text = text.where(has_digit)
    # Microsecond resolution: placeholder dates such as 31-12-9999 fit, so
    # they stay dates (and can be flagged) instead of overflowing.
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce").astype("datetime64[us]")
    if counts[iso.notna().to_numpy()].sum() / counts.sum() >= 0.95:
        return iso
    parts = text.str.extract(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
    second = pd.to_numeric(parts[1], errors="coerce")
    month_first = bool((second > 12).any())
    fmt = "%m{sep}%d{sep}%Y" if month_first else "%d{sep}%m{sep}%Y"
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for sep in "-/.":
        parsed = pd.to_datetime(text, format=fmt.format(sep=sep), errors="coerce")
        out = out.fillna(parsed.astype("datetime64[us]"))
    return out
