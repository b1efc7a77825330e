"""Suggested persona names, descriptions and strategies, drawn from the profile numbers.

Every word of a name is earned by a threshold on the segment's standardized
difference from the population (``HIGH`` = half a standard deviation): a
persona is only "High-Income" if its mean income is at least that far above
everyone's, only "Lapsed" if its days since last purchase are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .profiles import Profiles

HIGH = 0.5
# "Lapsed" also needs a gap a marketer would call lapsed, not only a large z
# where recency barely varies: at least this much longer since the last purchase.
LAPSED_RATIO = 1.3
SHARE_HIGH = 0.3
CHANNEL_HIGH = 0.25
_CATEGORY_WORDS = {"wine": "Wine", "meat": "Meat", "fish": "Fish", "sweets": "Sweets",
                   "fruit": "Fruit", "gold": "Gold"}
_CHANNEL_WORDS = {"web": "Web", "catalog": "Catalog", "store": "In-Store", "app": "App"}
_CHANNEL_PLAIN = {"web": "the web shop", "catalog": "the catalog", "store": "the store",
                  "app": "the app"}
SMALL_VALUABLE_SHARE = 0.15


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


@dataclass(frozen=True)
class Facts:
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


def facts_of(profiles: Profiles, segment: int) -> Facts:
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
    return Facts(
        income=zv("income"), spend=spend_z, children=zv("children"), age=zv("age"),
        recency=zv("recency"), recency_ratio=recency_ratio, deals=zv("deals"), web_visits=zv("web_visits"),
        campaigns=zv("campaigns_accepted"), categories=cats, channel=channel,
        top_channel=top_channel,
    )


def name_of(f: Facts) -> tuple[str, str]:
    """A persona name and its archetype from the facts; every word is earned."""
    cats = " & ".join(_CATEGORY_WORDS.get(c, c.title()) for c in f.categories)
    channel = _channel_phrase(f)
    if f.lapsed:
        base = "Lapsed Low Spenders" if f.low_spender else "Lapsed Customers"
        if f.income >= HIGH:
            base = "Lapsed High-Income Customers"
        return _join(base, None), "lapsed"
    if f.premium:
        return _join(f"High-Income {cats + ' ' if cats else ''}Lovers"
                     if cats else "High-Income Big Spenders", channel), "premium"
    if f.budget and f.family:
        return _join("Budget Families", channel), "budget"
    if f.family:
        return _join("Families" + (f", {cats} Buyers" if cats else ""), channel), "family"
    if f.categories and not f.low_spender:
        if f.categories[0] == "gold":
            return _join("Gold Gift Buyers", channel), "specialist"
        income = "High-Income " if f.income >= HIGH else ("Budget " if f.budget else "")
        return _join(f"{income}{cats} Specialists", channel), "specialist"
    if f.low_spender:
        who = "Young " if f.age <= -HIGH else ("Older " if f.age >= HIGH else "")
        return _join(f"{'Budget ' if f.budget else ''}{who}Low Spenders", channel), "budget"
    if f.spend >= HIGH:
        return _join("Big Spenders", channel), "premium"
    income = "High-Income " if f.income >= HIGH else ("Budget " if f.budget else "Mid-Income ")
    return _join(f"{income}Everyday Shoppers", channel), "mainstream"


def _channel_phrase(f: Facts) -> str | None:
    words = []
    if f.channel:
        words.append(_CHANNEL_WORDS.get(f.channel, f.channel.title()))
    if f.deals >= HIGH:
        words.append("Deals")
    return " & ".join(words) if words else None


def _join(base: str, channel: str | None) -> str:
    return f"{base}, {channel}" if channel else base


def suggest_personas(profiles: Profiles) -> tuple[Persona, ...]:
    """One suggested persona per segment, with names unique across segments.

    Examples
    --------
    The names read like "High-Income Wine & Meat Lovers, Catalog",
    "Budget Families, Deals" or "Lapsed Low Spenders".
    """
    facts = {s: facts_of(profiles, s) for s in range(profiles.n_segments)}
    named = {s: name_of(f) for s, f in facts.items()}
    names = _unique({s: n for s, (n, _) in named.items()}, facts)
    return tuple(
        _persona(profiles, s, names[s], named[s][1], facts[s]) for s in range(profiles.n_segments)
    )


def _unique(names: dict[int, str], facts: dict[int, Facts]) -> dict[int, str]:
    """Tell apart segments that earned the same name by what differs between them."""
    out = dict(names)
    for name in set(names.values()):
        same = sorted(s for s, n in names.items() if n == name)
        if len(same) < 2:
            continue
        for s in same:
            f = facts[s]
            others = [facts[o] for o in same if o != s]
            if all(f.spend > o.spend for o in others):
                tag = "Higher Spend"
            elif all(f.spend < o.spend for o in others):
                tag = "Lower Spend"
            elif all(f.age > o.age for o in others):
                tag = "Older"
            elif all(f.age < o.age for o in others):
                tag = "Younger"
            else:
                tag = f"Segment {s}"
            out[s] = f"{name} ({tag})"
    if len(set(out.values())) < len(out):  # ties that the tags did not break
        out = {s: f"{n} (Segment {s})" for s, n in out.items()}
    return out


def _persona(profiles: Profiles, s: int, name: str, archetype: str, f: Facts) -> Persona:
    row = profiles.summary.set_index("segment").loc[s]
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
    offer, tone = _STRATEGY[archetype]
    cats = [_CATEGORY_WORDS.get(c, c.title()) for c in f.categories]
    products = ", ".join(cats) if cats else _top_products(profiles, s)
    if archetype == "specialist" and cats:
        offer = f"Content and new-arrival alerts for {', '.join(cats).lower()}; " + offer
    if f.family:
        offer += "; family packs"
    channels = _channels(f)
    high_value = pd.notna(row["revenue_share"]) and row["revenue_share"] > row["share"]
    if row["share"] < SMALL_VALUABLE_SHARE and high_value:
        treatment = "Small and valuable: personal treatment (account manager, hand-picked offers)."
    elif row["share"] >= 0.25:
        treatment = "Large: automate (triggered emails, rules-based offers) and test at scale."
    else:
        treatment = "Mid-sized: templated campaigns with segment-specific content."
    return Persona(segment=s, name=name, description=" ".join(sentences), offer=offer,
                   channels=channels, tone=tone, products=products, archetype=archetype,
                   preferred_channel=f.top_channel, treatment=treatment, traits=traits)


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


def _channels(f: Facts) -> str:
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
