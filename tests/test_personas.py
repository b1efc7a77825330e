"""Persona names must be earned by the numbers, on the sample, planted and real data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import planted_customers, to_tsv_bytes

from segmentation import load_dataset, prepare, profile_segments, read_table, segment
from segmentation.personas import Facts, _unique, name_of, suggest_personas

HIGH = 0.5
SHARE_HIGH = 0.3
CHANNEL_HIGH = 0.25
LAPSED_RATIO = 1.3
CATEGORY_WORDS = {"Wine": "wine", "Meat": "meat", "Fish": "fish", "Sweets": "sweets",
                  "Fruit": "fruit", "Gold": "gold"}
CHANNEL_WORDS = {"Web": "web", "Catalog": "catalog", "In-Store": "store", "App": "app"}


def run_k(fm, k):
    seg = segment(fm, k)
    profiles = profile_segments(fm, seg)
    return seg, profiles, suggest_personas(profiles)


@pytest.fixture(scope="module")
def sample_runs(sample_path):
    fm = prepare(load_dataset(read_table(sample_path)))
    return fm, {k: run_k(fm, k) for k in range(3, 7)}


@pytest.fixture(scope="module")
def planted_run():
    frame = planted_customers(600, seed=0)
    fm = prepare(load_dataset(read_table(to_tsv_bytes(frame), name="planted")))
    return frame.attrs["planted"], fm, run_k(fm, 3)


@pytest.fixture(scope="module")
def real_runs(real_path):
    fm = prepare(load_dataset(read_table(real_path)))
    return fm, {k: run_k(fm, k) for k in range(3, 6)}


class Numbers:
    """A segment's standardized differences, computed here from the prepared values."""

    def __init__(self, fm, labels, segment_no):
        frame = fm.frame.select_dtypes("number")
        values = frame.to_numpy(float)
        inside = values[labels == segment_no]
        mu, sd = values.mean(axis=0), values.std(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.z = pd.Series((inside.mean(axis=0) - mu) / sd, index=frame.columns)
        self.mean = pd.Series(inside.mean(axis=0), index=frame.columns)
        self.pop = pd.Series(mu, index=frame.columns)
        self.variables = fm.variables

    def first(self, kind):
        return next(n for n, v in self.variables.items() if v.kind == kind)

    def of(self, kind, detail):
        return next(n for n, v in self.variables.items() if v.kind == kind and v.detail == detail)

    def zk(self, kind):
        return float(self.z[self.first(kind)])

    @property
    def spend(self):
        return self.zk("total_spend")

    def lapsed_rule(self) -> bool:
        rec = self.first("recency")
        return (self.z[rec] >= HIGH and self.mean[rec] >= LAPSED_RATIO * self.pop[rec]
                and self.spend <= 0)

    def category_stands_out(self, category) -> bool:
        if self.spend >= HIGH:
            return self.z[self.of("spend", category)] >= HIGH
        return self.z[self.of("spend_share", category)] >= SHARE_HIGH

    def channel_stands_out(self, channel) -> bool:
        shares = [n for n, v in self.variables.items() if v.kind == "channel_share"]
        best = max(shares, key=lambda n: self.z[n])
        return self.variables[best].detail == channel and self.z[best] >= CHANNEL_HIGH


def split_tag(name):
    match = re.fullmatch(r"(.*?)(?: \(([^()]*)\))?", name)
    return match.group(1), match.group(2)


def check_names_are_earned(fm, seg, personas):
    """Every word of every name is backed by the segment's own numbers."""
    names = [p.name for p in personas]
    assert len(set(names)) == len(names), names
    assert [p.segment for p in personas] == list(range(seg.n_clusters))
    numbers = {p.segment: Numbers(fm, seg.labels, p.segment) for p in personas}
    bases = {p.segment: split_tag(p.name)[0] for p in personas}
    for p in personas:
        n = numbers[p.segment]
        base, tag = split_tag(p.name)
        words = set(re.findall(r"[A-Za-z-]+", base))
        why = f"{p.name!r}: z = {n.z.round(2).to_dict()}"
        if "High-Income" in words:
            assert n.zk("income") >= HIGH, why
        if "Budget" in words:
            assert n.zk("income") <= -HIGH, why
        if "Mid-Income" in words:
            assert abs(n.zk("income")) < HIGH, why
        if "Families" in words:
            assert n.zk("children") >= HIGH, why
        assert ("Lapsed" in words) == n.lapsed_rule(), why
        if "Low Spenders" in base:
            assert n.spend <= -HIGH, why
        if "Big Spenders" in base or "Lovers" in words:
            assert n.spend >= HIGH, why
        if "Lovers" in words:
            assert n.zk("income") >= HIGH, why
        if "Specialists" in words or "Gift" in words:
            assert n.spend > -HIGH, why
        for word, category in CATEGORY_WORDS.items():
            if word in words:
                assert n.category_stands_out(category), f"{word} in {why}"
        for word, channel in CHANNEL_WORDS.items():
            if word in words:
                assert n.channel_stands_out(channel), f"{word} in {why}"
        if "Deals" in words:
            assert n.zk("deals") >= HIGH, why
        if "Young" in words:
            assert n.zk("age") <= -HIGH, why
        if "Older" in words:
            assert n.zk("age") >= HIGH, why
        if tag is not None:
            twins = [numbers[s] for s, b in bases.items() if b == base and s != p.segment]
            assert twins, f"{p.name!r} has a tag but no namesake"
            if tag == "Higher Spend":
                assert all(n.spend > t.spend for t in twins), why
            elif tag == "Lower Spend":
                assert all(n.spend < t.spend for t in twins), why
            elif tag == "Older":
                assert all(n.zk("age") > t.zk("age") for t in twins), why
            elif tag == "Younger":
                assert all(n.zk("age") < t.zk("age") for t in twins), why
            else:
                assert tag == f"Segment {p.segment}", why


def check_fields(personas, profiles):
    for p in personas:
        for field in ("name", "description", "offer", "channels", "tone"):
            value = getattr(p, field)
            assert isinstance(value, str) and value.strip(), (p.segment, field)
        size = int(profiles.summary.loc[p.segment, "size"])
        assert f"({size:,})" in p.description
        assert p.archetype in {"premium", "budget", "family", "specialist", "lapsed",
                               "mainstream"}


# ---------------------------------------------------------------------------
# The sample file, K = 3..6
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_sample_names_are_true_to_the_numbers(sample_runs, k):
    fm, runs = sample_runs
    seg, profiles, personas = runs[k]
    assert len(personas) == k
    check_names_are_earned(fm, seg, personas)
    check_fields(personas, profiles)


def test_sample_has_a_lapsed_segment(sample_runs):
    # sample_data/README.md plants an 18% lapsed type (recency mostly 70-99 days); from four
    # segments on, one of them is the lapsed customers.
    fm, runs = sample_runs
    for k in (4, 5, 6):
        seg, _, personas = runs[k]
        lapsed = [p for p in personas if "Lapsed" in p.name]
        assert len(lapsed) == 1, [p.name for p in personas]
        n = Numbers(fm, seg.labels, lapsed[0].segment)
        assert n.mean["Recency"] >= 1.3 * n.pop["Recency"]
        assert lapsed[0].archetype == "lapsed"


def test_sample_top_segment_is_premium(sample_runs):
    _, runs = sample_runs
    for k in (3, 4, 5, 6):
        _, _, personas = runs[k]
        assert personas[0].name.startswith("High-Income"), personas[0].name
        assert personas[0].archetype == "premium"


# ---------------------------------------------------------------------------
# Planted data
# ---------------------------------------------------------------------------

def test_planted_names_are_true_to_the_numbers(planted_run):
    _, fm, (seg, profiles, personas) = planted_run
    check_names_are_earned(fm, seg, personas)
    check_fields(personas, profiles)


def test_planted_types_get_the_names_they_were_built_with(planted_run):
    # conftest: type 0 spends big on wine and meat, type 1 is a low-income family on deals,
    # type 2 buys gold on the web.
    truth, _, (seg, _, personas) = planted_run
    name = {t: personas[np.bincount(seg.labels[truth == t]).argmax()].name for t in range(3)}
    assert "High-Income" in name[0] and "Wine" in name[0] and "Meat" in name[0]
    assert "Budget Families" in name[1] and "Deals" in name[1]
    assert "Gold" in name[2] and "Web" in name[2]
    assert not any("Lapsed" in n for n in name.values())


# ---------------------------------------------------------------------------
# The real public export, K = 3..5
# ---------------------------------------------------------------------------

@pytest.mark.realdata
@pytest.mark.parametrize("k", [3, 4, 5])
def test_real_names_are_true_to_the_numbers(real_runs, k):
    fm, runs = real_runs
    seg, profiles, personas = runs[k]
    check_names_are_earned(fm, seg, personas)
    check_fields(personas, profiles)


@pytest.mark.realdata
@pytest.mark.parametrize("k", [3, 4, 5])
def test_real_data_has_no_lapsed_segment(real_runs, k):
    fm, runs = real_runs
    seg, _, personas = runs[k]
    for p in personas:
        n = Numbers(fm, seg.labels, p.segment)
        # recency barely differs between segments of the real export
        assert n.mean["Recency"] < LAPSED_RATIO * n.pop["Recency"]
        assert not n.lapsed_rule()
        assert "Lapsed" not in p.name


# ---------------------------------------------------------------------------
# The naming rules themselves
# ---------------------------------------------------------------------------

def test_a_large_recency_z_alone_is_not_lapsed():
    barely = Facts(recency=1.5, recency_ratio=1.1, spend=-0.7)
    assert "Lapsed" not in name_of(barely)[0]
    assert name_of(barely)[0] == "Low Spenders"
    really = Facts(recency=1.5, recency_ratio=1.6, spend=-0.7)
    assert name_of(really) == ("Lapsed Low Spenders", "lapsed")
    assert name_of(Facts(recency=0.4, recency_ratio=1.6, spend=-0.7))[0] == "Low Spenders"
    # a big spender who has not been back for a while is not called lapsed
    assert "Lapsed" not in name_of(Facts(recency=1.5, recency_ratio=1.6, spend=0.3))[0]


@pytest.mark.parametrize("facts,expected", [
    (Facts(income=0.8, spend=0.9, categories=("wine", "meat"), channel="catalog"),
     "High-Income Wine & Meat Lovers, Catalog"),
    (Facts(income=0.8, spend=0.9), "High-Income Big Spenders"),
    (Facts(income=-0.9, children=1.0, deals=0.7), "Budget Families, Deals"),
    (Facts(children=0.6, categories=("fish",)), "Families, Fish Buyers"),
    (Facts(categories=("gold",), channel="web"), "Gold Gift Buyers, Web"),
    (Facts(income=-0.6, categories=("sweets",)), "Budget Sweets Specialists"),
    (Facts(spend=-0.8, age=-0.7, income=-0.6), "Budget Young Low Spenders"),
    (Facts(spend=-0.8, age=0.7), "Older Low Spenders"),
    (Facts(spend=0.6), "Big Spenders"),
    (Facts(income=0.1, channel="store"), "Mid-Income Everyday Shoppers, In-Store"),
    (Facts(income=0.49), "Mid-Income Everyday Shoppers"),
    (Facts(income=0.5), "High-Income Everyday Shoppers"),
])
def test_name_of_hand_cases(facts, expected):
    assert name_of(facts)[0] == expected


def test_namesakes_are_told_apart():
    facts = {0: Facts(spend=0.9, age=0.1), 1: Facts(spend=0.2, age=0.3), 2: Facts(spend=0.2)}
    names = _unique({0: "Big Spenders", 1: "Big Spenders", 2: "Other"}, facts)
    assert names == {0: "Big Spenders (Higher Spend)", 1: "Big Spenders (Lower Spend)",
                     2: "Other"}
    same = {s: Facts() for s in range(3)}
    names = _unique(dict.fromkeys(range(3), "Mid-Income Everyday Shoppers"), same)
    assert len(set(names.values())) == 3
    assert names[1] == "Mid-Income Everyday Shoppers (Segment 1)"



def test_the_name_check_rejects_unearned_names(sample_runs):
    # The check above must be able to fail: give the top spenders the budget segment's name.
    from dataclasses import replace

    fm, runs = sample_runs
    seg, _, personas = runs[3]
    last = len(personas) - 1
    swapped = (replace(personas[0], name=personas[last].name), *personas[1:last],
               replace(personas[last], name=personas[0].name))
    with pytest.raises(AssertionError):
        check_names_are_earned(fm, seg, swapped)
    lapsed = (replace(personas[0], name="Lapsed Customers"), *personas[1:])
    with pytest.raises(AssertionError):
        check_names_are_earned(fm, seg, lapsed)


def test_a_users_name_wins_over_a_colliding_suggestion(sample_path):
    from segmentation.personas import apply_edits

    fm = prepare(load_dataset(read_table(sample_path)))
    personas = suggest_personas(profile_segments(fm, segment(fm, 3)))
    taken = personas[0].name
    edited = apply_edits(personas, {1: {"name": taken}})
    assert edited[1].name == taken  # the user's choice is kept as typed
    assert edited[0].name == f"{taken} (segment 0)"  # the suggestion gives way
    assert len({p.name for p in edited}) == len(edited)
    both = apply_edits(personas, {0: {"name": "Same"}, 1: {"name": "Same"}})
    assert [p.name for p in both[:2]] == ["Same (segment 0)", "Same (segment 1)"]
