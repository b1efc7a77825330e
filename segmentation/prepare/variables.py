"""The variables a segmentation can use or describe, raw and derived.

Raw columns keep their own names; derived variables get fixed snake_case
names (``age``, ``total_spend``, ``share_MntWines`` ...). Each variable has a
``kind`` saying what it measures, so persona naming and charts can find
"income" or "the wine spend" whatever the source file called them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.config import (
    MAX_SET_BY_LEVELS,
    SPIKE_SHARE,
)
from segmentation.data._distinct import map_distinct
from segmentation.data.roles import Role, channel_name, education_rank, spend_category

GROUPS = (
    "Demographics",
    "Product spend",
    "Spend shares",
    "Recency",
    "Channels",
    "Money",
    "Measures",
    "Categories",
    "Flags",
    "Campaign response",
    "Outcomes",
    "Recorded after the outcome",
    "Other",
)
#: Kinds of variable that are yes/no (0/1): a share when averaged.
BINARY_KINDS = frozenset({"binary", "outcome", "campaign", "complaint", "sentinel_flag", "level"})
#: Kinds of variable whose values are categories (text), expanded to one 0/1 level each.
CATEGORY_KINDS = frozenset({"category", "calendar"})
#: Kinds of variable that log scaling applies to: amounts, counts and durations.
LOGGABLE_KINDS = frozenset({"income", "spend", "total_spend", "money", "other", "channel",
                            "total_purchases", "deals", "web_visits", "recency", "measure_na",
                            "days_since", "tenure", "leak"})
#: Kinds never in the default clustering set (they are offered, or profiled only).
NOT_DEFAULT_KINDS = frozenset({"overdue", "category", "calendar", "level", "binary", "outcome", "campaign",
                               "complaint", "sentinel_flag", "measure_na", "leak", "days_since",
                               "campaigns_accepted"})
OTHER_LEVEL = "(other)"
_PARTNERED = r"married|together|partner|couple|cohabit"
_CATEGORY_LABELS = {
    "wine": "Wine",
    "fruit": "Fruit",
    "meat": "Meat",
    "fish": "Fish",
    "sweets": "Sweets",
    "gold": "Gold",
}
#: What each purchase channel (as :func:`segmentation.data.roles.channel_name` finds it) is called
#: in variable labels, tables and sheets.
CHANNEL_LABELS = {"web": "Web", "catalog": "Catalog", "store": "Store", "app": "App"}


@dataclass(frozen=True)
class Variable:
    """One variable: where it comes from and what it measures."""

    name: str
    label: str
    group: str
    kind: str
    sources: tuple[str, ...]
    detail: str | None = None  # spend category or channel name

    @property
    def is_spend(self) -> bool:
        return self.kind in {"spend", "total_spend"} or (
            self.kind == "composite" and self.detail == "spend"
        )


def catalogue(roles: dict[str, str], labels: dict[str, str] | None = None,
              ) -> dict[str, Variable]:
    """Every variable that can be derived from columns with these roles, in display order.

    ``labels`` gives columns the names a user chose; they are used wherever a
    column is shown or a persona is named after it.
    """
    labels = {c: str(v).strip() for c, v in (labels or {}).items() if str(v).strip()}

    def _label(col: str) -> str:
        return labels.get(col) or _label_of(col)

    by_role: dict[str, list[str]] = {}
    for col, role in roles.items():
        by_role.setdefault(role, []).append(col)

    def cols(role: Role) -> list[str]:
        return by_role.get(str(role), [])

    out: dict[str, Variable] = {}

    def add(var: Variable) -> None:
        out[var.name] = var

    for col in cols(Role.INCOME):
        add(Variable(col, labels.get(col) or "Income", "Demographics", "income", (col,)))
    if cols(Role.AGE):
        add(Variable("age", "Age", "Demographics", "age", tuple(cols(Role.AGE)[:1]), "age"))
    elif cols(Role.BIRTH_YEAR):
        add(Variable("age", "Age", "Demographics", "age", tuple(cols(Role.BIRTH_YEAR)[:1]),
                     "birth_year"))
    kids = cols(Role.CHILDREN)
    if kids:
        add(Variable("children", "Children at home", "Demographics", "children", tuple(kids)))
    if kids or cols(Role.MARITAL_STATUS):
        add(Variable("household_size", "Household size", "Demographics", "household_size",
                     tuple(kids + cols(Role.MARITAL_STATUS)[:1])))
    if cols(Role.EDUCATION):
        add(Variable("education_level", "Education level (1-6)", "Demographics", "education",
                     tuple(cols(Role.EDUCATION)[:1])))
    if cols(Role.SIGNUP_DATE):
        add(Variable("tenure_days", "Tenure (days)", "Demographics", "tenure",
                     tuple(cols(Role.SIGNUP_DATE)[:1])))
    for col in cols(Role.RECENCY):
        add(Variable(col, labels.get(col) or "Days since last purchase", "Recency", "recency",
                     (col,)))
    spend = cols(Role.SPEND)
    for col in spend:
        cat = spend_category(col)
        label = labels.get(col) or (f"{_CATEGORY_LABELS[cat]} spend" if cat else _label(col))
        add(Variable(col, label, "Product spend", "spend", (col,), cat))
    if len(spend) > 1:
        add(Variable("total_spend", "Total spend", "Product spend", "total_spend", tuple(spend)))
        for col in spend:
            name = out[col].label.removesuffix(" spend")
            add(Variable(f"share_{col}", f"{name} share of spend", "Spend shares",
                         "spend_share", tuple(spend), out[col].detail))
    channels = cols(Role.CHANNEL)
    for col in channels:
        ch = channel_name(col)
        label = labels.get(col) or (f"{CHANNEL_LABELS[ch]} purchases" if ch else _label(col))
        add(Variable(col, label, "Channels", "channel", (col,), ch))
    if len(channels) > 1:
        add(Variable("total_purchases", "Total purchases", "Channels", "total_purchases",
                     tuple(channels)))
        for col in channels:
            name = out[col].label.removesuffix(" purchases")
            add(Variable(f"channel_share_{col}", f"{name} share of purchases", "Channels",
                         "channel_share", tuple(channels), out[col].detail))
    for col in cols(Role.DEALS):
        add(Variable(col, "Deal purchases", "Channels", "deals", (col,)))
    for col in cols(Role.WEB_VISITS):
        add(Variable(col, "Web visits per month", "Channels", "web_visits", (col,)))
    campaigns = cols(Role.CAMPAIGN)
    for col in campaigns:
        add(Variable(col, _label(col), "Campaign response", "campaign", (col,)))
    if len(campaigns) > 1:
        add(Variable("campaigns_accepted", "Campaigns accepted", "Campaign response",
                     "campaigns_accepted", tuple(campaigns)))
    for col in cols(Role.COMPLAINT):
        add(Variable(col, "Complained", "Campaign response", "complaint", (col,)))
    for col in cols(Role.OTHER_NUMERIC):
        add(Variable(col, _label(col), "Measures", "other", (col,)))
    for col in cols(Role.OVERDUE):
        add(Variable(col, _label(col), "Recency", "overdue", (col,)))
    for col in cols(Role.MONEY):
        add(Variable(col, _label(col), "Money", "money", (col,)))
    for col in cols(Role.SENTINEL):
        add(Variable(col, _label(col), "Measures", "measure_na", (col,)))
        add(Variable(f"{col}_not_applicable", f"{_label(col)}: not applicable", "Flags",
                     "sentinel_flag", (col,)))
    for col in cols(Role.BINARY):
        add(Variable(col, _label(col), "Flags", "binary", (col,)))
    for col in cols(Role.OUTCOME):
        add(Variable(col, _label(col), "Outcomes", "outcome", (col,)))
    for col in cols(Role.CATEGORY) + cols(Role.MARITAL_STATUS) + cols(Role.EDUCATION):
        add(Variable(col, _label(col), "Categories", "category", (col,)))
    for col in cols(Role.CALENDAR):
        add(Variable(col, _label(col), "Categories", "calendar", (col,)))
    for col in cols(Role.DATE):
        add(Variable(f"days_since_{col}", f"Days since {_label(col)}", "Other", "days_since",
                     (col,)))
    for col in cols(Role.LEAK):
        add(Variable(col, _label(col), "Recorded after the outcome", "leak", (col,)))
    return out


def with_levels(variables: dict[str, Variable], levels: dict[str, tuple[str, ...]],
                ) -> dict[str, Variable]:
    """The catalogue plus one 0/1 variable per level of each category (``"job = retired"``)."""
    out = dict(variables)
    for col, values in levels.items():
        parent = variables.get(col)
        if parent is None:
            continue
        for value in values:
            name = _level_name(col, value)
            out[name] = Variable(name, f"{parent.label}: {value}", parent.group, "level", (col,),
                                 value)
    return out


def _level_name(column: str, value: str) -> str:
    """The variable name of one level of a category column."""
    return f"{column} = {value}"


def _levels_of(name: str, variables: dict[str, Variable]) -> list[str]:
    """The level variables of a category variable, in order."""
    var = variables.get(name)
    if var is None or var.kind not in CATEGORY_KINDS:
        return []
    return [n for n, v in variables.items() if v.kind == "level" and v.sources == var.sources]


def default_features(variables: dict[str, Variable], limit: int = 12,
                     frame: pd.DataFrame | None = None) -> tuple[str, ...]:
    """A sensible clustering set: the file's behaviour measures and money columns.

    Retail columns come first, in the order that matters most for telling
    customers apart (income, age, children, recency, then wine and meat, which
    carry most of the spend, and the store, web and catalog channels), then
    the file's other measures and money columns. Never ids, codes and
    categories, calendar parts, sentinel-coded measures, outcomes or leaks:
    those are offered, not preselected. With ``frame`` (the variables'
    values), a measure that most customers share one value of is left out too
    (see ``SPIKE_SHARE``).
    """
    by_kind: dict[str, list[str]] = {}
    skipped = _left_out(variables, frame) if frame is not None else {}
    for var in variables.values():
        if var.kind in NOT_DEFAULT_KINDS or var.name in skipped:
            continue
        by_kind.setdefault(var.kind, []).append(var.name)
    spend_order = ("wine", "meat", "gold", "fish", "sweets", "fruit", None)
    channel_order = ("store", "web", "catalog", "app", None)

    def ordered(kind: str, order) -> list[str]:
        names = by_kind.get(kind, [])
        return sorted(names, key=lambda n: order.index(variables[n].detail)
                      if variables[n].detail in order else len(order))

    spend = ordered("spend", spend_order)
    channels = ordered("channel", channel_order)
    head = [n for kind in ("income", "age", "children", "recency") for n in by_kind.get(kind, [])]
    priority = (head + spend[:2] + channels[:3] + spend[2:] + channels[3:]
                + by_kind.get("money", []) + by_kind.get("other", []))
    if len(priority) < 5:
        priority += [n for kind in ("deals", "web_visits", "total_purchases", "total_spend")
                     for n in by_kind.get(kind, []) if n not in priority]
    chosen = priority[:limit]
    return tuple(n for n in variables if n in chosen)




def _top_share(values: pd.Series) -> float | None:
    """The share of customers holding a number's commonest value; None for no numbers."""
    present = values.dropna()
    if present.empty or not pd.api.types.is_numeric_dtype(present.dtype):
        return None
    return float(present.value_counts(normalize=True).iloc[0])


def _set_by(values: pd.Series, frame: pd.DataFrame, variables: dict[str, Variable]) -> str | None:
    """The category column that fixes this number (one value per level, e.g. a plan's fee)."""
    levels = values.dropna().nunique()
    if levels > MAX_SET_BY_LEVELS or levels < 2:
        return None
    for var in variables.values():
        col = var.sources[0]
        if var.kind not in CATEGORY_KINDS or col not in frame.columns:
            continue
        pairs = pd.DataFrame({"level": frame[col], "value": values}).dropna()
        if len(pairs) and pairs.groupby("level")["value"].nunique().max() == 1:
            return var.label
    return None




_DEFAULT_KINDS = frozenset({"income", "age", "children", "recency", "spend", "channel", "money",
                            "other"})


def _left_out(variables: dict[str, Variable], frame: pd.DataFrame) -> dict[str, str]:
    """Measures the default set leaves out, and why (they stay available)."""
    out = {}
    for name, var in variables.items():
        if var.kind not in _DEFAULT_KINDS or name not in frame.columns:
            continue
        share = _top_share(frame[name])
        if share is not None and share >= SPIKE_SHARE:
            out[name] = (f"{share:.0%} of customers share one value, so it mostly sets a few "
                         "apart from everyone")
            continue
        parent = _set_by(frame[name], frame, variables)
        if parent:
            out[name] = f"one value per {parent}: a property of the {parent}, not a behaviour"
    return out


def derive(base: pd.DataFrame, variables: dict[str, Variable], tenure_end: str | None = None,
           sentinels: dict[str, float] | None = None,
           date_ends: dict[str, str] | None = None) -> pd.DataFrame:
    """Compute every catalogued variable from the cleaned base columns.

    ``base`` already holds ``age`` (see :func:`age_from`) and has no missing
    values in the columns used. Tenure is counted up to ``tenure_end`` (an
    ISO date fixed when the preparation was fitted, so a customer's tenure
    does not depend on who else is in the file).
    """
    out = {}
    distinct: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # a category's codes, its values
    for var in variables.values():
        src = list(var.sources)
        if var.kind in CATEGORY_KINDS:
            out[var.name] = base[src[0]].astype(object)
        elif var.kind == "level":
            if src[0] not in distinct:
                distinct[src[0]] = pd.factorize(base[src[0]].astype(object))
            codes, values = distinct[src[0]]
            values = np.asarray(values, dtype=object)
            # Each level is decided once per distinct value, then spread over the rows (a
            # missing cell, code -1, takes the last entry): a million customers' cells
            # are not compared one by one for every level.
            if var.detail == OTHER_LEVEL:
                named = [v.detail for v in variables.values()
                         if v.kind == "level" and v.sources == var.sources
                         and v.detail != OTHER_LEVEL]
                flags = np.append(~pd.Series(values, dtype=object).isin(named).to_numpy(), True)
            else:
                flags = np.append(values == var.detail, False)
            out[var.name] = pd.Series(flags[codes].astype(float), index=base.index)
        elif var.kind == "measure_na":
            code = (sentinels or {}).get(src[0])
            values = base[src[0]].astype(float)
            out[var.name] = values.where(values != code) if code is not None else values
        elif var.kind == "sentinel_flag":
            code = (sentinels or {}).get(src[0])
            out[var.name] = (base[src[0]].astype(float) == code).astype(float)
        elif var.kind == "days_since":
            dates = base[src[0]]
            if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
                continue
            end = pd.Timestamp((date_ends or {}).get(src[0]) or dates.max())
            out[var.name] = (end - dates).dt.days.astype(float)
        elif var.kind == "leak" and not pd.api.types.is_numeric_dtype(base[src[0]].dtype):
            continue
        elif var.name in base.columns:
            out[var.name] = base[var.name].astype(float)
        elif var.kind == "children":
            out[var.name] = base[src].sum(axis=1)
        elif var.kind == "household_size":
            kids = [c for c in src if c in base.columns and pd.api.types.is_numeric_dtype(base[c])]
            marital = [c for c in src if c not in kids]
            partner = (base[marital[0]].astype(str).str.lower().str.contains(_PARTNERED, regex=True)
                       if marital else False)
            out[var.name] = 1.0 + np.asarray(partner, dtype=float) + base[kids].sum(axis=1)
        elif var.kind == "education":
            out[var.name] = _education_level(base[src[0]])
        elif var.kind == "tenure":
            dates = base[src[0]]
            end = pd.Timestamp(tenure_end) if tenure_end else dates.max()
            out[var.name] = (end - dates).dt.days.astype(float)
        elif var.kind in {"total_spend", "total_purchases", "campaigns_accepted"}:
            out[var.name] = base[src].sum(axis=1)
        elif var.kind in {"spend_share", "channel_share"}:
            own = var.name.removeprefix("share_").removeprefix("channel_share_")
            total = base[src].sum(axis=1)
            out[var.name] = (base[own] / total.where(total > 0)).fillna(0.0)
    # copy=False: no second copy of every column in one block (0.4 GB at a million customers)
    return pd.DataFrame(out, index=base.index, copy=False)


def age_from(frame: pd.DataFrame, variables: dict[str, Variable],
             reference_year: int) -> pd.Series:
    """Age in years: an age column as it is, or the reference year minus the birth year."""
    var = variables["age"]
    values = frame[var.sources[0]].astype(float)
    return values if var.detail == "age" else reference_year - values


def _education_level(series: pd.Series) -> pd.Series:
    """Education as an ordinal 1 (basic) .. 6 (doctorate); unrecognised values are missing."""
    return map_distinct(series, education_rank).astype(float)


def _label_of(col: str) -> str:
    """A readable label for a column name: ``"NumWebPurchases"`` → ``"Num Web Purchases"``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", col).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def _tenure_end_of(base: pd.DataFrame, variables: dict[str, Variable],
                  reference_year: int) -> str | None:
    """The date tenure is counted to: the latest signup when it falls in the reference
    year (the export's own "today"), else the reference year's last day."""
    var = variables.get("tenure_days")
    if var is None or var.sources[0] not in base.columns:
        return None
    latest = base[var.sources[0]].max()
    end = latest if pd.notna(latest) and latest.year == reference_year else pd.Timestamp(
        year=reference_year, month=12, day=31)
    return end.date().isoformat()
