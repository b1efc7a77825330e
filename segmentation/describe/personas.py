"""Suggested persona names, descriptions and strategies, drawn from the profile numbers.

Every word of a name is earned by a threshold on the segment's standardized
difference from the population (``HIGH`` = half a standard deviation): a
persona is only "High-Income" if its mean income is at least that far above
everyone's, only "Lapsed" if its days since last purchase are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from segmentation.config import (
    CHANNEL_HIGH,
    HIGH,
    LAPSED_OVERDUE,
    LAPSED_RATIO,
    LEVEL_MIN_SHARE,
    MAX_NAME_WORDS,
    SHARE_HIGH,
    SMALL_VALUABLE_SHARE,
)
from segmentation.describe.drivers import DEMOGRAPHIC_KINDS, MONEY_KINDS
from segmentation.describe.profiles import Profiles
from segmentation.prepare.variables import CHANNEL_LABELS

_CATEGORY_WORDS = {"wine": "Wine", "meat": "Meat", "fish": "Fish", "sweets": "Sweets",
                   "fruit": "Fruit", "gold": "Gold"}
# A persona shops "In-Store"; a column is "Store purchases".
_CHANNEL_WORDS = {**CHANNEL_LABELS, "store": "In-Store"}
_CHANNEL_PLAIN = {"web": "the web shop", "catalog": "the catalog", "store": "the store",
                  "app": "the app"}


@dataclass(frozen=True)
class Persona:
    """A named segment and what to do with it. Names and strategy fields are editable."""

    segment: int
    name: str
    description: str
    offer: str
    channels: str
    tone: str
    products: str
    archetype: str
    preferred_channel: str | None
    treatment: str
    traits: tuple[str, ...]
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class _Facts:
    """The signals a persona's name is built from (z = standardized difference)."""

    income: float = 0.0
    spend: float = 0.0
    children: float = 0.0
    age: float = 0.0
    recency: float = 0.0
    recency_ratio: float = 1.0  # segment mean / population mean of days since last purchase
    deals: float = 0.0
    web_visits: float = 0.0
    campaigns: float = 0.0
    categories: tuple[str, ...] = ()  # stand-out product categories, strongest first
    channel: str | None = None  # channel whose share of purchases stands out most
    top_channel: str | None = None  # channel with most purchases on average

    @property
    def premium(self) -> bool:
        return self.income >= HIGH and self.spend >= HIGH

    @property
    def budget(self) -> bool:
        return self.income <= -HIGH

    @property
    def family(self) -> bool:
        return self.children >= HIGH

    @property
    def lapsed(self) -> bool:
        return self.recency >= HIGH and self.recency_ratio >= LAPSED_RATIO and self.spend <= 0

    @property
    def low_spender(self) -> bool:
        return self.spend <= -HIGH


def _facts_of(profiles: Profiles, segment: int) -> _Facts:
    """Read a segment's naming signals from its profile."""
    z = profiles.z.loc[segment]

    def zv(kind: str) -> float:
        name = profiles.first(kind)
        return float(z[name]) if name is not None and np.isfinite(z[name]) else 0.0

    spend_vars = profiles.kind("spend")
    share_vars = profiles.kind("spend_share")
    spend_z = zv("total_spend") if profiles.first("total_spend") else (
        float(np.nanmean([z[n] for n in spend_vars])) if spend_vars else 0.0)
    if spend_z >= HIGH:
        # Big spenders spend more on everything; what they spend most on,
        # relative to everyone, names them.
        ranked = sorted(spend_vars, key=lambda n: -z[n])
        cats = [profiles.variables[n].detail for n in ranked if z[n] >= HIGH]
    else:
        ranked = sorted(share_vars, key=lambda n: -z[n])
        cats = [profiles.variables[n].detail for n in ranked if z[n] >= SHARE_HIGH]
    cats = tuple(c for c in cats if c)[:2]
    channel = None
    ch_shares = profiles.kind("channel_share")
    if ch_shares:
        best = max(ch_shares, key=lambda n: z[n])
        if z[best] >= CHANNEL_HIGH:
            channel = profiles.variables[best].detail
    means = profiles.means.loc[segment]
    rec = profiles.first("recency")
    pop_rec = profiles.population_mean[rec] if rec else 0.0
    recency_ratio = float(means[rec] / pop_rec) if rec and pop_rec > 0 else 1.0
    ch_counts = profiles.kind("channel")
    top_channel = (profiles.variables[max(ch_counts, key=lambda n: means[n])].detail
                   if ch_counts else None)
    return _Facts(
        income=zv("income"), spend=spend_z, children=zv("children"), age=zv("age"),
        recency=zv("recency"), recency_ratio=recency_ratio, deals=zv("deals"), web_visits=zv("web_visits"),
        campaigns=zv("campaigns_accepted"), categories=cats, channel=channel,
        top_channel=top_channel,
    )


def _archetype_of(f: _Facts) -> str:
    """The strategy family of a segment of retail customers (offers and tone follow it)."""
    if f.lapsed:
        return "lapsed"
    if f.premium or f.spend >= HIGH:
        return "premium"
    if f.family:
        return "budget" if f.budget else "family"
    if f.categories and not f.low_spender:
        return "specialist"
    if f.low_spender or f.budget:
        return "budget"
    return "mainstream"


@dataclass(frozen=True)
class Claim:
    """One word of a persona name and the numbers that earn it.

    ``z`` is the standardized difference (segment mean − everyone's mean) /
    everyone's standard deviation; for a category value or a yes/no flag the
    means are shares. ``rule`` is the test the word passed, so a user can
    check it against the profile.
    """

    segment: int
    word: str
    variable: str
    label: str
    segment_value: float
    population_value: float
    z: float
    rule: str
    # Whom the segment is compared with: a segment found within a stratum is named
    # against that stratum's customers, not everyone.
    population: str = "everyone"

    @property
    def text(self) -> str:
        share = self.rule.startswith("share")
        fmt = (lambda v: f"{v:.0%}") if share else _number
        return (f"{self.word}: {self.label} {fmt(self.segment_value)} against "
                f"{fmt(self.population_value)} for {self.population} ({self.z:+.1f} sd)")

    def to_dict(self) -> dict:
        return {"segment": self.segment, "word": self.word, "variable": self.variable,
                "label": self.label, "segment_value": self.segment_value,
                "population_value": self.population_value, "z": self.z, "rule": self.rule,
                **({} if self.population == "everyone" else {"population": self.population})}


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


# Variables a name may be built from; outcomes and leaks describe a segment
# (in its description) but never name it: they are results, not traits.
_NAMING_KINDS = frozenset({"income", "age", "children", "household_size", "recency", "spend",
                           "total_spend", "spend_share", "channel_share", "deals", "web_visits",
                           "money", "other", "measure_na", "sentinel_flag", "binary", "level",
                           "education", "tenure", "total_purchases", "composite", "days_since",
                           "channel"})


@dataclass(frozen=True)
class _Word:
    word: str
    prefix: str  # "High", "Low" or "" (merged: "High Fresh & Frozen")
    claim: Claim
    clustered: bool
    extra: Claim | None = None  # a second condition the same word had to meet


_WHO_KINDS = DEMOGRAPHIC_KINDS | MONEY_KINDS


def _candidate_words(profiles: Profiles, s: int) -> list[_Word]:
    """Every word this segment has earned, strongest first (clustered variables first)."""
    z = profiles.z.loc[s]
    means = profiles.means.loc[s]
    pop = profiles.population_mean
    out = []
    for name, var in profiles.variables.items():
        if var.kind not in _NAMING_KINDS or name not in z.index or not np.isfinite(z[name]):
            continue
        if name not in profiles.features and var.kind in _WHO_KINDS:
            # Who customers are, when not clustered on (behaviour first, or the variable
            # the strata cut), is a profile fact: the name says what the segment does.
            continue
        zv, mv, pv = float(z[name]), float(means[name]), float(pop[name])
        word = _word_for(profiles, s, name, var, zv, mv, pv)
        if word is None:
            continue
        text, prefix, rule = word
        out.append(_Word(text, prefix, Claim(s, f"{prefix} {text}".strip(), name, var.label, mv,
                                             pv, zv, rule), name in profiles.features))
        late = profiles.first("overdue")
        if text == "Lapsed" and late is not None:
            out[-1] = replace(out[-1], extra=Claim(
                s, "Lapsed", late, profiles.variables[late].label, float(means[late]),
                float(pop[late]), float(z[late]),
                f"mean at least {LAPSED_OVERDUE:g} of their own usual gaps"))
    # Strength in quarter-sd steps, then the file's column order: two traits that are
    # about as strong keep the same order from one run to the next, and so do the names.
    order = {name: i for i, name in enumerate(profiles.variables)}
    out.sort(key=lambda w: (not w.clustered, -round(abs(w.claim.z) * 4) / 4, order[w.claim.variable]))
    return out


def _word_for(profiles, s, name, var, z, mean, pop):
    kind = var.kind
    if abs(z) < HIGH:
        return None
    up = z > 0
    if kind == "income":
        return ("Income", "High" if up else "Low", _rule(up))
    if kind == "age":
        return ("Older" if up else "Younger", "", _rule(up))
    if kind == "children":
        return ("Families" if up else "Few Children", "", _rule(up))
    if kind == "recency":
        if up and pop > 0 and mean >= LAPSED_RATIO * pop and _overdue(profiles, s):
            return ("Lapsed", "", f"{_rule(up)} and at least {LAPSED_RATIO}x everyone's days")
        if not up:
            return ("Recent Buyers", "", _rule(up))
        return None
    if kind == "total_spend":
        return ("Big Spenders" if up else "Low Spenders", "", _rule(up))
    if kind == "spend":
        word = _CATEGORY_WORDS.get(var.detail or "", var.label)
        return (word, "High" if up else "Low", _rule(up))
    if kind == "spend_share":
        own = name.removeprefix("share_")
        if not up or own not in profiles.z.columns or profiles.z.loc[s, own] < 0:
            return None  # a share word never names a segment that spends less on it
        word = _CATEGORY_WORDS.get(var.detail or "", var.label.removesuffix(" share of spend"))
        return (f"{word}-Focused", "", _rule(up))
    if kind == "channel_share":
        own = name.removeprefix("channel_share_")
        if not up or own not in profiles.z.columns or profiles.z.loc[s, own] <= -HIGH:
            return None  # "In-Store" only where store purchases are not well below average
        return (_CHANNEL_WORDS.get(var.detail or "", var.label.removesuffix(" share of purchases")),
                "", _rule(up))
    if kind == "deals":
        return ("Deal-Seekers", "", _rule(up)) if up else None
    if kind == "level":
        if not up or mean < LEVEL_MIN_SHARE:
            return None
        value = str(var.detail)
        word = (value.strip().title() if not re.fullmatch(r"[\d.,-]+|\(other\)", value)
                and len(value) <= 24 else var.label)
        return (word, "", f"share z >= {HIGH} and at least {LEVEL_MIN_SHARE:.0%} of the segment")
    if kind == "sentinel_flag":
        base = var.label.removesuffix(": not applicable")
        return (f"No {base}" if up else f"With {base}", "", "share " + _rule(up))
    if kind == "binary":
        return (f"With {var.label}" if up else f"Without {var.label}", "", "share " + _rule(up))
    return (var.label, "High" if up else "Low", _rule(up))




def _overdue(profiles, s) -> bool:
    """Late by their own order rhythm, where the data has one (else raw recency decides)."""
    name = profiles.first("overdue")
    if name is None:
        return True
    return float(profiles.means.loc[s, name]) >= LAPSED_OVERDUE


def _rule(up: bool) -> str:
    return f"z >= {HIGH}" if up else f"z <= -{HIGH}"


def _compose(words: list[_Word]) -> str:
    """ "High Fresh", "High Frozen", "Low Grocery" → "High Fresh & Frozen, Low Grocery"."""
    parts: list[tuple[str, list[str]]] = []
    for w in words:
        if w.prefix and parts and parts[-1][0] == w.prefix:
            parts[-1][1].append(w.word)
        else:
            parts.append((w.prefix, [w.word]))
    return ", ".join(f"{prefix} {_and(ws)}".strip() for prefix, ws in parts)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " & " + words[-1]


def _pick(words: list[_Word], n: int) -> list[_Word]:
    """The first ``n`` words, with words of the same direction side by side."""
    groups: dict[object, list[_Word]] = {}
    for i, w in enumerate(words[:n]):
        groups.setdefault(w.prefix or i, []).append(w)
    return [w for group in groups.values() for w in group]


def suggest_personas(profiles: Profiles) -> tuple[Persona, ...]:
    """One suggested persona per segment, named after what sets it apart from everyone.

    Every word of a name is backed by a :class:`Claim` (the variable, the
    segment's value, everyone's value and the standardized difference), kept
    in ``Persona.claims``. Segments whose strongest traits coincide are named
    from their next distinguishing trait.

    Examples
    --------
    Names read like "High Fresh & Frozen, Low Grocery" or "Retired, Married,
    High Balance"; with retail columns, "High Income, High Wine & Meat, Catalog".
    """
    n = profiles.n_segments
    words = {s: _candidate_words(profiles, s) for s in range(n)}
    depth = dict.fromkeys(range(n), MAX_NAME_WORDS)
    names = {}
    for _ in range(8):
        names = {s: _compose(_pick(words[s], depth[s])) for s in range(n)}
        clashes = [s for s in range(n)
                   if list(names.values()).count(names[s]) > 1 and depth[s] < len(words[s])]
        if not clashes:
            break
        for s in clashes:
            depth[s] += 1
    noun = "Shoppers" if profiles.kind("spend") or profiles.kind("channel") else "Customers"
    claims = {s: [c for w in _pick(words[s], depth[s]) for c in (w.claim, w.extra) if c]
              for s in range(n)}
    for s in range(n):
        if not names[s]:
            names[s] = f"Typical {noun}"
    _tell_apart(profiles, names, claims)
    facts = {s: _facts_of(profiles, s) for s in range(n)}
    return tuple(_persona(profiles, s, names[s], facts[s], tuple(claims[s])) for s in range(n))


def _tell_apart(profiles: Profiles, names: dict[int, str], claims: dict[int, list[Claim]]) -> None:
    """Segments still sharing a name get the variable on which they differ most."""
    for name in set(names.values()):
        same = sorted(s for s, v in names.items() if v == name)
        if len(same) < 2:
            continue
        z = profiles.z.loc[same, [c for c in profiles.z.columns
                                  if profiles.variables.get(c) is not None
                                  and profiles.variables[c].kind in _NAMING_KINDS]]
        z = z.dropna(axis=1)
        if z.empty:
            continue
        var = (z.max() - z.min()).idxmax()
        label = profiles.variables[var].label
        for s in same:
            up = z.loc[s, var] >= z[var].median()
            word = f"{'Higher' if up else 'Lower'} {label}"
            others = [o for o in same if o != s]
            ref = float(profiles.means.loc[others, var].mean())
            names[s] = f"{name}, {word}"
            claims[s].append(Claim(s, word, var, label, float(profiles.means.loc[s, var]), ref,
                                   float(z.loc[s, var]),
                                   "compared with the namesake segments "
                                   + ", ".join(map(str, others))))
    if len(set(names.values())) < len(names):  # identical on every variable: sizes differ
        for s in names:
            names[s] = f"{names[s]} ({profiles.sizes.loc[s, 'share']:.0%})"


def _persona(profiles: Profiles, s: int, name: str, f: _Facts,
             claims: tuple[Claim, ...]) -> Persona:
    retail = bool(profiles.kind("spend") or profiles.kind("channel"))
    archetype = _archetype_of(f) if retail else "general"
    row = profiles.sizes.set_index("segment").loc[s]
    means = profiles.means.loc[s]
    pop = profiles.population_mean
    parts = [f"{row['share']:.0%} of customers ({int(row['size']):,})"]
    if pd.notna(row["revenue_share"]):
        parts[0] += f" and {row['revenue_share']:.0%} of revenue"
    sentences = [parts[0] + "."]
    for kind, fmt, what in (("income", "{:,.0f}", "Average income"),
                            ("total_spend", "{:,.0f}", "Average total spend"),
                            ("children", "{:.1f}", "Children at home"),
                            ("recency", "{:.0f} days", "Days since last purchase")):
        var = profiles.first(kind)
        if var is not None:
            sentences.append(f"{what} {fmt.format(means[var])} (everyone: {fmt.format(pop[var])}).")
    if f.top_channel:
        sentences.append(f"Buys most through {_CHANNEL_PLAIN.get(f.top_channel, f.top_channel)}.")
    traits = tuple(t.text for t in profiles.traits[s])
    if traits:
        sentences.append("Stands out on: " + "; ".join(traits[:3]) + ".")
    for var in profiles.kind("outcome"):
        sentences.append(f"{profiles.variables[var].label}: {means[var]:.0%} "
                         f"(everyone: {pop[var]:.0%}).")
    if not retail:
        focus = ", ".join(c.word for c in claims[:3]) or "no stand-out trait"
        prompt = f"To decide in the workshop, for {focus}"
        return Persona(segment=s, name=name, description=" ".join(sentences),
                       offer=f"{prompt}: what offer would they value?",
                       channels=f"{prompt}: where do they listen?",
                       tone=f"{prompt}: what tone fits?", products="",
                       archetype=archetype, preferred_channel=None,
                       treatment=_treatment(row), traits=traits, claims=claims)
    offer, tone = _STRATEGY[archetype]
    cats = [_CATEGORY_WORDS.get(c, c.title()) for c in f.categories]
    products = ", ".join(cats) if cats else _top_products(profiles, s)
    if archetype == "specialist" and cats:
        offer = f"Content and new-arrival alerts for {', '.join(cats).lower()}; " + offer
    if f.family:
        offer += "; family packs"
    channels = _channels(f)
    return Persona(segment=s, name=name, description=" ".join(sentences), offer=offer,
                   channels=channels, tone=tone, products=products, archetype=archetype,
                   preferred_channel=f.top_channel, treatment=_treatment(row), traits=traits,
                   claims=claims)


def _treatment(row) -> str:
    high_value = pd.notna(row["revenue_share"]) and row["revenue_share"] > row["share"]
    if row["share"] < SMALL_VALUABLE_SHARE and high_value:
        return "Small and valuable: personal treatment (account manager, hand-picked offers)."
    if row["share"] >= 0.25:
        return "Large: automate (triggered emails, rules-based offers) and test at scale."
    return "Mid-sized: templated campaigns with segment-specific content."


_STRATEGY = {
    "premium": ("Early access to new arrivals and a VIP tier; premium bundles",
                "Exclusive and personal; quality over price"),
    "budget": ("Bundles and a free-shipping threshold; deal-of-the-week",
               "Practical and value-focused"),
    "family": ("Multi-buy savings and loyalty points", "Warm and practical"),
    "specialist": ("cross-sell the next category they have not tried",
                   "Knowledgeable, enthusiast to enthusiast"),
    "lapsed": ("Win-back series: a reminder, then a time-limited incentive, then last chance",
               "Warm, we-miss-you, no pressure"),
    "mainstream": ("Personalised recommendations and loyalty points",
                   "Friendly and helpful"),
}


def _channels(f: _Facts) -> str:
    main = [f.channel or f.top_channel] if (f.channel or f.top_channel) else []
    words = [{"web": "Email and web", "catalog": "Catalog mailings", "store": "In-store events",
              "app": "App push"}.get(c, c) for c in main]
    if f.deals >= HIGH:
        words.append("deal alerts")
    return ", ".join(words) if words else "Email"


def _top_products(profiles: Profiles, s: int) -> str:
    spend = profiles.kind("spend")
    if not spend:
        return ""
    means = profiles.means.loc[s, spend].sort_values(ascending=False)
    return ", ".join(_CATEGORY_WORDS.get(profiles.variables[n].detail or "", profiles.variables[n].label)
                     for n in means.index[:2])


EDITABLE_FIELDS = ("name", "description", "offer", "channels", "tone", "products")


def apply_edits(personas: tuple[Persona, ...],
                edits: dict[int, dict[str, str]]) -> tuple[Persona, ...]:
    """Personas with the user's edits laid over the suggestions, keyed by segment.

    Only editable fields are taken; a blank name falls back to the suggestion
    so no segment is left unnamed, and a name typed twice gets its segment
    number so every persona stays distinguishable in charts and exports.
    """
    out = []
    for p in personas:
        changes = {f: str(v) for f, v in edits.get(p.segment, {}).items()
                   if f in EDITABLE_FIELDS and v is not None}
        if not changes.get("name", p.name).strip():
            changes.pop("name")
        out.append(replace(p, **changes) if changes else p)
    # A name the user gave wins over a suggestion that happens to collide
    # with it; only names still shared after that get their segment number.
    named = {p.segment for p in out if "name" in edits.get(p.segment, {})}
    taken = {p.name.strip().lower() for p in out if p.segment in named}
    out = [replace(p, name=f"{p.name} (segment {p.segment})")
           if p.segment not in named and p.name.strip().lower() in taken else p for p in out]
    seen: dict[str, int] = {}
    for p in out:
        seen[p.name.strip().lower()] = seen.get(p.name.strip().lower(), 0) + 1
    return tuple(replace(p, name=f"{p.name} (segment {p.segment})")
                 if seen[p.name.strip().lower()] > 1 else p for p in out)
