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

from .roles import Role, channel_name, spend_category

GROUPS = (
    "Demographics",
    "Product spend",
    "Spend shares",
    "Recency",
    "Channels",
    "Campaign response",
    "Other",
)
_EDUCATION_LEVELS = (
    (1, r"basic|primary|elementary|high.?school|secondary"),
    (2, r"2n.?cycle|associate|college|diploma|vocational"),
    (3, r"graduat|bachelor|undergrad|licen"),
    (4, r"master|mba|msc"),
    (5, r"phd|doctor"),
)
_PARTNERED = r"married|together|partner|couple|cohabit"
_CATEGORY_LABELS = {
    "wine": "Wine",
    "fruit": "Fruit",
    "meat": "Meat",
    "fish": "Fish",
    "sweets": "Sweets",
    "gold": "Gold",
}
_CHANNEL_LABELS = {"web": "Web", "catalog": "Catalog", "store": "Store", "app": "App"}


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


def catalogue(roles: dict[str, str]) -> dict[str, Variable]:
    """Every variable that can be derived from columns with these roles, in display order."""
    by_role: dict[str, list[str]] = {}
    for col, role in roles.items():
        by_role.setdefault(role, []).append(col)

    def cols(role: Role) -> list[str]:
        return by_role.get(str(role), [])

    out: dict[str, Variable] = {}

    def add(var: Variable) -> None:
        out[var.name] = var

    for col in cols(Role.INCOME):
        add(Variable(col, "Income", "Demographics", "income", (col,)))
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
        add(Variable("education_level", "Education level (1-5)", "Demographics", "education",
                     tuple(cols(Role.EDUCATION)[:1])))
    if cols(Role.SIGNUP_DATE):
        add(Variable("tenure_days", "Tenure (days)", "Demographics", "tenure",
                     tuple(cols(Role.SIGNUP_DATE)[:1])))
    for col in cols(Role.RECENCY):
        add(Variable(col, "Days since last purchase", "Recency", "recency", (col,)))
    spend = cols(Role.SPEND)
    for col in spend:
        cat = spend_category(col)
        label = f"{_CATEGORY_LABELS[cat]} spend" if cat else _label(col)
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
        label = f"{_CHANNEL_LABELS[ch]} purchases" if ch else _label(col)
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
        add(Variable(col, _label(col), "Other", "other", (col,)))
    return out


def default_features(variables: dict[str, Variable], limit: int = 12) -> tuple[str, ...]:
    """A sensible clustering set: income, age, children, recency, spend per category, channels.

    Spend categories and channels come in the order that matters most for
    telling customers apart in retail data (wine and meat carry most of the
    spend; store, web and catalog are the three buying channels), so the
    least informative ones are the first to go when the set would exceed
    ``limit``.
    """
    by_kind: dict[str, list[str]] = {}
    for var in variables.values():
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
    priority = head + spend[:2] + channels[:3] + spend[2:] + channels[3:]
    if len(priority) < 5:
        priority += [n for kind in ("deals", "web_visits", "other", "total_spend")
                     for n in by_kind.get(kind, []) if n not in priority]
    chosen = priority[:limit]
    return tuple(n for n in variables if n in chosen)


def derive(base: pd.DataFrame, variables: dict[str, Variable], tenure_end: str | None = None,
           ) -> pd.DataFrame:
    """Compute every catalogued variable from the cleaned base columns.

    ``base`` already holds ``age`` (see :func:`age_from`) and has no missing
    values in the columns used. Tenure is counted up to ``tenure_end`` (an
    ISO date fixed when the preparation was fitted, so a customer's tenure
    does not depend on who else is in the file).
    """
    out = {}
    for var in variables.values():
        src = list(var.sources)
        if var.name in base.columns:
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
            out[var.name] = education_level(base[src[0]])
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
    return pd.DataFrame(out, index=base.index)


def age_from(frame: pd.DataFrame, variables: dict[str, Variable],
             reference_year: int) -> pd.Series:
    """Age in years: an age column as it is, or the reference year minus the birth year."""
    var = variables["age"]
    values = frame[var.sources[0]].astype(float)
    return values if var.detail == "age" else reference_year - values


def education_level(series: pd.Series) -> pd.Series:
    """Education as an ordinal 1 (basic) .. 5 (doctorate); unrecognised values are missing."""
    def level(value) -> float:
        if pd.isna(value):
            return np.nan
        text = str(value).lower()
        return next((float(lv) for lv, pattern in _EDUCATION_LEVELS if re.search(pattern, text)),
                    np.nan)

    return series.map(level).astype(float)


def _label(col: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", col).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def tenure_end_of(base: pd.DataFrame, variables: dict[str, Variable],
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
