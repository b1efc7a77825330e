"""What each column of a customer table is: detected from its name and values.

The detection returns a plain ``{column: role}`` dict. Callers may edit it
and pass it back; nothing downstream re-detects behind their back.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

import pandas as pd

from .io import numeric_share


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
    OTHER_NUMERIC = "other_numeric"
    CATEGORY = "category"
    CONSTANT = "constant"
    TEXT = "text"
    IGNORE = "ignore"


ROLE_LABELS = {
    Role.ID: "Customer id",
    Role.INCOME: "Income",
    Role.BIRTH_YEAR: "Birth year",
    Role.AGE: "Age",
    Role.CHILDREN: "Household: children",
    Role.MARITAL_STATUS: "Household: marital status",
    Role.EDUCATION: "Education",
    Role.SIGNUP_DATE: "Signup date",
    Role.RECENCY: "Recency (days since last purchase)",
    Role.SPEND: "Spend in a product category",
    Role.CHANNEL: "Purchases in a channel",
    Role.WEB_VISITS: "Web visits",
    Role.DEALS: "Deal purchases",
    Role.CAMPAIGN: "Campaign response",
    Role.COMPLAINT: "Complaint",
    Role.OTHER_NUMERIC: "Other number",
    Role.CATEGORY: "Other category",
    Role.CONSTANT: "Constant (excluded)",
    Role.TEXT: "Free text (excluded)",
    Role.IGNORE: "Ignored",
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
    }
)
#: Roles never used as clustering variables, whatever the caller asks.
NEVER_CLUSTERED = frozenset({Role.ID, Role.CONSTANT, Role.TEXT, Role.IGNORE})

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
        (Role.CAMPAIGN, r"(accepted_?cmp|^response$|responded|accepted|campaign|cmp\d)"),
        (Role.COMPLAINT, r"complain"),
        (Role.CHANNEL, r"(^num.*purchases$|(web|catalog|catalogue|store|shop|online|instore|app"
                       r"|mobile|phone|mail).*(purchase|order|buy|transaction)s?)"),
        (Role.SPEND, r"(^mnt|spend|spent|amount|sales|revenue|_prods?$)"),
    )
)

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


def normalise_name(name: str) -> str:
    """``"NumWebPurchases"`` → ``"num_web_purchases"``; spaces and dashes become ``_``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def spend_category(column: str) -> str | None:
    """The product category a spend column is about (``"wine"``, ``"meat"`` ...), if known."""
    key = normalise_name(column)
    return next((cat for cat, pattern in _SPEND_CATEGORIES if re.search(pattern, key)), None)


def channel_name(column: str) -> str | None:
    """The sales channel a purchase-count column is about (``"web"``, ``"store"`` ...), if known."""
    key = normalise_name(column).replace("web_visits", "")
    return next((ch for ch, pattern in _CHANNELS if re.search(pattern, key)), None)


def detect_roles(frame: pd.DataFrame, decimal: str = ".") -> dict[str, str]:
    """Guess the role of every column from its name and its values.

    Parameters
    ----------
    frame : DataFrame
        The table as read (see :func:`segmentation.io.read_table`).
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
    return {col: str(_detect_one(col, frame[col], decimal)) for col in frame.columns}


def _detect_one(column: str, series: pd.Series, decimal: str) -> Role:
    present = series.dropna()
    if present.astype(str).nunique() <= 1:
        return Role.CONSTANT
    key = normalise_name(column)
    numeric = numeric_share(present, decimal) >= 0.95
    by_name = next((role for role, pattern in _NAME_RULES if pattern.search(key)), None)
    if by_name is Role.CONSTANT:
        return Role.CONSTANT
    if by_name is Role.ID:
        return Role.ID
    if by_name in NUMERIC_ROLES and numeric:
        return by_name
    if by_name in {Role.MARITAL_STATUS, Role.EDUCATION} and not numeric:
        return by_name
    if by_name is Role.EDUCATION and numeric:
        return Role.OTHER_NUMERIC
    if by_name is Role.SIGNUP_DATE and _looks_like_dates(present):
        return Role.SIGNUP_DATE
    if numeric:
        return Role.OTHER_NUMERIC
    if _looks_like_dates(present):
        return Role.SIGNUP_DATE if by_name is Role.SIGNUP_DATE else Role.IGNORE
    unique_share = present.astype(str).nunique() / max(len(present), 1)
    if present.astype(str).nunique() <= 30 or unique_share <= 0.05:
        return Role.CATEGORY
    return Role.TEXT


def _looks_like_dates(present: pd.Series) -> bool:
    sample = present.head(200)
    return bool(parse_dates(sample).notna().mean() >= 0.95)  # sample has no missing


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates written year-first or day-first (``"04-09-2012"`` is 4 September).

    Day-first is assumed for ``dd-mm-yyyy`` and ``dd/mm/yyyy`` unless a value's
    first field exceeds 12 in the second position, which proves month-first.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("datetime64[us]")
    present_values = series.dropna()
    if len(present_values) and present_values.map(
            lambda v: isinstance(v, datetime | date)).mean() >= 0.95:
        # Cells that already are dates (Excel), not text to be parsed.
        return pd.to_datetime(series, errors="coerce").astype("datetime64[us]")
    text = series.astype("string").str.strip()
    present = text.notna()
    if not present.any():
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    # Microsecond resolution: placeholder dates such as 31-12-9999 fit, so
    # they stay dates (and can be flagged) instead of overflowing.
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce").astype("datetime64[us]")
    if iso[present].notna().mean() >= 0.95:
        return iso
    parts = text.str.extract(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
    second = pd.to_numeric(parts[1], errors="coerce")
    month_first = bool((second > 12).any())
    fmt = "%m{sep}%d{sep}%Y" if month_first else "%d{sep}%m{sep}%Y"
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    for sep in "-/.":
        parsed = pd.to_datetime(text, format=fmt.format(sep=sep), errors="coerce")
        out = out.fillna(parsed.astype("datetime64[us]"))
    return out
