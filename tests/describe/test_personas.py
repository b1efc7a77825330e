"""Persona names must be earned by the numbers, on the sample, planted, real and other shapes.

Every word of a name is backed by a claim (variable, segment value, everyone's
value, standardized difference); the checks below recompute those numbers
from the prepared values, independently of the profiles, and test each
claim's rule.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from segmentation import read_table
from segmentation.cluster.kmeans import segment
from segmentation.data.dataset import load_dataset
from segmentation.describe.personas import suggest_personas
from segmentation.describe.profiles import profile_segments
from segmentation.prepare.features import prepare
from tests.helpers import planted_customers, to_tsv_bytes
from tests.helpers.shapes import ALL_SHAPES, to_bytes

HIGH = 0.5
LAPSED_RATIO = 1.3
LEVEL_MIN_SHARE = 0.3
UP_WORDS = ("High ", "With ", "Older", "Families", "Big Spenders", "Lapsed", "-Focused",
            "Deal-Seekers", "No ")
DOWN_WORDS = ("Low ", "Without ", "Younger", "Few Children", "Low Spenders", "Recent Buyers")


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


@pytest.fixture(scope="module", params=sorted(ALL_SHAPES))
def shape_run(request):
    generate, sep = ALL_SHAPES[request.param]
    frame = generate()
    fm = prepare(load_dataset(read_table(to_bytes(frame, sep), name=request.param)))
    k = len(np.unique(frame.attrs["planted"]))
    return request.param, frame, fm, run_k(fm, k)


class Numbers:
    """A segment's means and standardized differences, computed here from the prepared values."""

    def __init__(self, fm, labels, segment_no):
        frame = fm.frame.select_dtypes("number")
        values = frame.to_numpy(float)
        inside = values[labels == segment_no]
        with np.errstate(invalid="ignore", divide="ignore"):
            mu, sd = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            self.mean = pd.Series(np.nanmean(inside, axis=0), index=frame.columns)
            self.z = pd.Series((self.mean.to_numpy() - mu) / sd, index=frame.columns)
        self.pop = pd.Series(mu, index=frame.columns)
        self.variables = fm.variables


def check_names_are_earned(fm, seg, personas):
    """Every word of every name is a claim, and every claim holds on the segment's numbers."""
    names = [p.name for p in personas]
    assert len(set(names)) == len(names), names
    assert [p.segment for p in personas] == list(range(seg.n_clusters))
    retail = any(v.kind in {"spend", "channel"} for v in fm.variables.values())
    for p in personas:
        n = Numbers(fm, seg.labels, p.segment)
        why = f"{p.name!r}: {[c.text for c in p.claims]}"
        assert not re.search(r"\(segment \d+\)", p.name, re.I), why
        assert "None" not in p.name and "nan" not in p.name.lower().split(), why
        if "Shoppers" in p.name:
            assert retail, why
        rest = p.name
        for claim in sorted(p.claims, key=lambda c: -len(c.word)):
            core = claim.word.removeprefix("High ").removeprefix("Low ")
            assert core in p.name, f"claim {claim.word!r} is not in {why}"
            rest = rest.replace(core, " ", 1)
            var = claim.variable
            assert var in n.mean.index, why
            assert claim.segment_value == pytest.approx(n.mean[var], rel=1e-6, abs=1e-9), why
            if claim.rule.startswith("compared with"):
                others = [int(o) for o in re.findall(r"\d+", claim.rule)]
                ref = np.mean([Numbers(fm, seg.labels, o).mean[var] for o in others])
                assert claim.population_value == pytest.approx(ref), why
                if claim.word.startswith("Higher"):
                    assert n.mean[var] >= ref, why
                else:
                    assert n.mean[var] <= ref, why
                continue
            assert claim.population_value == pytest.approx(n.pop[var], rel=1e-6, abs=1e-9), why
            assert claim.z == pytest.approx(n.z[var], rel=1e-6, abs=1e-9), why
            up = claim.word.startswith(UP_WORDS) or claim.word.endswith(UP_WORDS)
            down = claim.word.startswith(DOWN_WORDS) or claim.word.endswith(DOWN_WORDS)
            kind = fm.variables[var].kind
            if kind == "overdue":  # "Lapsed" by the customers' own order rhythm
                assert claim.word == "Lapsed" and n.mean[var] >= 2.0, why
                continue
            if kind == "level":
                assert n.z[var] >= HIGH and n.mean[var] >= LEVEL_MIN_SHARE, why
            elif down and not up:
                assert n.z[var] <= -HIGH, why
            else:
                assert n.z[var] >= HIGH, why
            if claim.word == "Lapsed":
                assert kind == "recency" and n.mean[var] >= LAPSED_RATIO * n.pop[var], why
            if claim.word.endswith("Income"):
                assert kind == "income", why
            if claim.word.endswith("-Focused"):  # never for a segment that spends less on it
                own = var.removeprefix("share_")
                assert n.z[own] >= 0, why
            if kind == "channel_share":  # "In-Store" only where store purchases hold up
                assert n.z[var.removeprefix("channel_share_")] > -HIGH, why
        leftover = re.sub(r"\b(High|Low|Typical|Customers|Shoppers)\b|[,&()%\d]", " ", rest)
        assert not leftover.strip(), f"unclaimed words {leftover.strip()!r} in {why}"


def check_fields(personas, profiles):
    for p in personas:
        for field in ("name", "description", "offer", "channels", "tone"):
            value = getattr(p, field)
            assert isinstance(value, str) and value.strip(), (p.segment, field)
            assert "None" not in value and "nan" not in value.split(), (p.segment, field, value)
        size = int(profiles.sizes.loc[p.segment, "size"])
        assert f"({size:,})" in p.description
        assert p.archetype in {"premium", "budget", "family", "specialist", "lapsed",
                               "mainstream", "general"}


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
        assert "High Income" in personas[0].name or "Income" in personas[0].name, personas[0].name
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
    assert "Wine" in name[0] and "Meat" in name[0], name
    assert "Low" in name[1] or "Families" in name[1], name
    assert "Gold" in name[2] or "Web" in name[2], name
    assert not any("Lapsed" in n for n in name.values())


# ---------------------------------------------------------------------------
# Other shapes: wholesale, bank, subscription, a retailer with a running number
# ---------------------------------------------------------------------------

def test_shape_names_are_true_to_the_numbers(shape_run):
    _, _, fm, (seg, profiles, personas) = shape_run
    check_names_are_earned(fm, seg, personas)
    check_fields(personas, profiles)


def test_shape_names_use_only_the_files_own_words(shape_run):
    name, frame, fm, (_, _, personas) = shape_run
    for p in personas:
        assert "Income" not in p.name, p.name  # none of these files has an income column
        assert "Shoppers" not in p.name, p.name
        assert "Segment" not in p.name, p.name
        if not any(v.kind in {"spend", "channel"} for v in fm.variables.values()):
            # no spend or channel columns: the strategy is a prompt naming the segment's traits
            assert p.offer.startswith("To decide in the workshop"), p.offer
    offers = [p.offer for p in personas]
    assert len(set(offers)) == len(offers), offers


def test_bank_retirees_are_named_for_age_and_job():
    generate, sep = ALL_SHAPES["bank"]
    frame = generate()
    fm = prepare(load_dataset(read_table(to_bytes(frame, sep), name="bank")))
    seg, _, personas = run_k(fm, 3)
    truth = frame.attrs["planted"]
    retirees = personas[np.bincount(seg.labels[truth == 0]).argmax()]
    assert "Older" in retirees.name, retirees.name
    claims = {c.word: c for c in retirees.claims}
    if "Retired" in retirees.name:
        assert claims["Retired"].variable == "job = retired"
        assert claims["Retired"].segment_value >= 0.3


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
        assert "Lapsed" not in p.name


# ---------------------------------------------------------------------------
# The naming rules themselves
# ---------------------------------------------------------------------------

def test_the_name_check_rejects_unearned_names(sample_runs):
    # The check above must be able to fail: swap two names, or add an unclaimed word.
    fm, runs = sample_runs
    seg, _, personas = runs[3]
    last = len(personas) - 1
    swapped = (replace(personas[0], name=personas[last].name), *personas[1:last],
               replace(personas[last], name=personas[0].name))
    with pytest.raises(AssertionError):
        check_names_are_earned(fm, seg, swapped)
    lapsed = (replace(personas[0], name=personas[0].name + ", Lapsed"), *personas[1:])
    with pytest.raises(AssertionError):
        check_names_are_earned(fm, seg, lapsed)
    flipped = (replace(personas[0], claims=tuple(
        replace(c, z=-c.z) for c in personas[0].claims)), *personas[1:])
    with pytest.raises(AssertionError):
        check_names_are_earned(fm, seg, flipped)


def test_segments_with_the_same_top_traits_get_different_names():
    # Two planted groups that share "High Fresh" and differ only in a third variable.
    rng = np.random.default_rng(3)
    n = 300
    group = np.repeat([0, 1, 2], n // 3)
    frame = pd.DataFrame({
        "Fresh": np.where(group < 2, 100, 10) + rng.normal(0, 3, n),
        "Milk": np.where(group == 0, 80, np.where(group == 1, 50, 20)) + rng.normal(0, 3, n),
    })
    fm = prepare(load_dataset(read_table(frame.to_csv(index=False).encode())))
    seg, _, personas = run_k(fm, 3)
    names = [p.name for p in personas]
    assert len(set(names)) == 3, names
    check_names_are_earned(fm, seg, personas)


def test_a_users_name_wins_over_a_colliding_suggestion(sample_path):
    from segmentation.describe.personas import apply_edits

    fm = prepare(load_dataset(read_table(sample_path)))
    personas = suggest_personas(profile_segments(fm, segment(fm, 3)))
    taken = personas[0].name
    edited = apply_edits(personas, {1: {"name": taken}})
    assert edited[1].name == taken  # the user's choice is kept as typed
    assert edited[0].name == f"{taken} (segment 0)"  # the suggestion gives way
    assert len({p.name for p in edited}) == len(edited)
    both = apply_edits(personas, {0: {"name": "Same"}, 1: {"name": "Same"}})
    assert [p.name for p in both[:2]] == ["Same (segment 0)", "Same (segment 1)"]


def test_who_customers_are_names_a_segment_only_when_clustered_on():
    # Two groups apart in wine spend and in income; clustered on wine spend and recency
    # only (behaviour first), the names say what they do and leave income to the profile.
    from segmentation import RunConfig, run
    from segmentation.prepare.features import PrepConfig

    rng = np.random.default_rng(0)
    n = 600
    group = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "ID": np.arange(1, n + 1),
        "Income": np.where(group, 90_000, 30_000) * rng.uniform(0.9, 1.1, n),
        "MntWines": np.where(group, 600, 50) * rng.uniform(0.8, 1.2, n),
        "Recency": rng.integers(0, 100, n),
    })
    behaviour = run(to_bytes(frame), RunConfig(k=2, stability=False, n_init=4, prep=PrepConfig(
        features=("MntWines", "Recency"))), name="groups.csv")
    names = [p.name for p in behaviour.personas]
    assert sorted(names) == ["High Wine", "Low Wine"]
    assert abs(behaviour.profiles.z["Income"]).min() > 0.8  # income does differ, and is profiled
    with_income = run(to_bytes(frame), RunConfig(k=2, stability=False, n_init=4, prep=PrepConfig(
        features=("MntWines", "Income"))), name="groups.csv")
    assert all("Income" in p.name for p in with_income.personas)
