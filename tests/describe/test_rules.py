"""Surrogate rules per persona: planted thresholds recovered, quoted counts re-derived by
filtering the data with the rule as written, accuracy measured on rows held out from fitting."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from segmentation import run
from segmentation.config import RULES_MIN_ACCURACY, RULES_TEST_SHARE
from segmentation.describe.rules import persona_rules, surrogate_rules
from segmentation.prepare.variables import Variable
from tests.helpers import CHEAP, planted_customers, to_tsv_bytes

# How a rule's words map back to a filter: the inverse of the rule's own wording.
_CONDITION = re.compile(r"^(?P<label>.+?) (?P<word>above|at most|at least) (?P<value>-?[\d,.]+%?)$")
_FLAG = re.compile(r"^(?P<label>.+?): (?P<answer>yes|no)$")
_FIGURES = re.compile(r"^(?P<rule>.+): (?P<cov>\d+)% of this segment \((?P<n_seg>[\d,]+) of "
                      r"(?P<seg>[\d,]+)\), (?P<oth>\d+)% of others \((?P<n_oth>[\d,]+) of "
                      r"(?P<others>[\d,]+)\)$")


def _var(name: str, label: str, kind: str = "other") -> Variable:
    return Variable(name, label, "Measures", kind, (name,))


def _number(text: str) -> float:
    return float(text.rstrip("%").replace(",", "")) / (100 if text.endswith("%") else 1)


def _filter(text: str, frame: pd.DataFrame, columns: dict[str, str]) -> np.ndarray:
    """The rows a person typing the rule's words into a filter would get."""
    keep = np.ones(len(frame), dtype=bool)
    for part in text.split(" and "):
        flag = _FLAG.match(part)
        if flag:
            values = frame[columns[flag["label"]]].to_numpy()
            keep &= (values == 1) if flag["answer"] == "yes" else (values == 0)
            continue
        m = _CONDITION.match(part)
        assert m, f"not a condition: {part!r}"
        values, bound = frame[columns[m["label"]]].to_numpy(dtype=float), _number(m["value"])
        keep &= {"above": values > bound, "at most": values <= bound,
                 "at least": values >= bound}[m["word"]]
    return keep


def _check_quoted_counts(rules, frame: pd.DataFrame, labels, columns: dict[str, str]) -> int:
    """Every figure in every rule's text equals what filtering the data with its words gives."""
    checked = 0
    for s in rules.segments:
        own = np.asarray(labels) == s.segment
        for rule in s.rules:
            m = _FIGURES.match(rule.text)
            assert m, rule.text
            kept = _filter(m["rule"], frame, columns)
            n_seg, n_oth = int((kept & own).sum()), int((kept & ~own).sum())
            assert int(m["n_seg"].replace(",", "")) == n_seg
            assert int(m["n_oth"].replace(",", "")) == n_oth
            assert int(m["seg"].replace(",", "")) == own.sum()
            assert int(m["others"].replace(",", "")) == (~own).sum()
            assert int(m["cov"]) == round(100 * n_seg / own.sum())
            assert int(m["oth"]) == round(100 * n_oth / (~own).sum())
            checked += 1
    return checked


def _planted(n: int = 4000, seed: int = 0):
    """Segment 1 is exactly ``spend > 50 and visits <= 3``; a third variable is noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.uniform(0, 100, n), "y": rng.integers(0, 10, n).astype(float),
                          "z": rng.normal(0, 1, n)})
    labels = ((frame["x"] > 50) & (frame["y"] <= 3)).astype(int).to_numpy()
    variables = {"x": _var("x", "Basket value"), "y": _var("y", "Visits"),
                 "z": _var("z", "Noise score")}
    return frame, labels, variables


def test_planted_threshold_rule_is_recovered_with_its_thresholds():
    frame, labels, variables = _planted()
    rules = surrogate_rules(frame, labels, variables, random_state=3)
    planted = rules.for_segment(1)
    assert planted.simple
    assert planted.held_out_accuracy >= 0.95
    top = planted.shown[0]
    bounds = {(c.variable, c.op): c.value for c in top.conditions}
    assert set(bounds) == {("x", ">"), ("y", "<=")}
    assert bounds[("x", ">")] == pytest.approx(50, abs=1.0)
    assert bounds[("y", "<=")] == 3  # whole numbers stay exact: "at most 3"
    assert top.coverage >= 0.97 and top.others_share <= 0.02
    assert "Visits at most 3" in top.text and "Basket value above" in top.text
    assert "Noise score" not in top.text


def test_quoted_counts_equal_the_counts_of_filtering_with_the_words():
    frame, labels, variables = _planted()
    rules = surrogate_rules(frame, labels, variables, random_state=3)
    columns = {v.label: name for name, v in variables.items()}
    assert _check_quoted_counts(rules, frame, labels, columns) >= 2


def test_quoted_counts_hold_for_money_shares_and_flags_after_rounding():
    # Money thresholds are rounded to two figures and shares to whole percent: the counts
    # quoted must be those of the rounded rule, not of the tree's own cut.
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame({"income": rng.normal(52_000, 15_000, n).round(),
                          "wine_share": rng.beta(2, 3, n), "member": rng.integers(0, 2, n)})
    labels = ((frame["income"] > 61_234) & (frame["wine_share"] > 0.437)).astype(int)
    labels = np.where(frame["member"].eq(1) & (frame["income"] < 40_000), 2, labels)
    variables = {"income": _var("income", "Income", "income"),
                 "wine_share": _var("wine_share", "Wine share of spend", "spend_share"),
                 "member": _var("member", "Club member", "binary")}
    rules = surrogate_rules(frame, labels, variables, random_state=0)
    texts = " ".join(r.text for s in rules.segments for r in s.rules)
    assert re.search(r"Income above \d\d,000\b", texts)
    assert re.search(r"Wine share of spend above \d\d%", texts)
    assert "Club member: yes" in texts
    columns = {v.label: name for name, v in variables.items()}
    assert _check_quoted_counts(rules, frame, labels, columns) >= 3


def test_held_out_accuracy_is_measured_on_rows_not_used_in_fitting():
    # Pure noise, a tree grown to fit every training row: it is near perfect on the rows it
    # saw and at chance on the rows held out, which only a held-out measure can show.
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({c: rng.uniform(0, 1, n) for c in "abcd"})
    labels = rng.integers(0, 2, n)
    variables = {c: _var(c, f"Var {c}") for c in "abcd"}
    rules = surrogate_rules(frame, labels, variables, max_depth=None, min_leaf_share=1,
                            max_rules=10_000, random_state=0)
    noise = rules.for_segment(1)
    assert noise.n_test == round(n * RULES_TEST_SHARE)
    assert noise.n_train + noise.n_test == n
    assert noise.train_accuracy > 0.97
    assert abs(noise.held_out_accuracy - 0.5) < 0.06
    assert not noise.simple
    assert noise.shown == ()
    assert "has no simple rule" in noise.verdict and f"below {RULES_MIN_ACCURACY:.0%}" in \
        noise.verdict


def test_held_out_figures_match_an_independent_fit_on_the_same_split():
    # The split is scikit-learn's stratified split with the same seed: refitting the same tree
    # on its training rows and applying the rules stated to its test rows gives the figures.
    frame, labels, variables = _planted(n=1500, seed=5)
    rules = surrogate_rules(frame, labels, variables, random_state=11)
    s = rules.for_segment(1)
    y = labels == 1
    train, test = train_test_split(np.arange(len(y)), test_size=RULES_TEST_SHARE, stratify=y,
                                   random_state=11)
    assert (s.n_train, s.n_test) == (len(train), len(test))
    matched = np.zeros(len(y), dtype=bool)
    for r in s.rules:
        matched |= r.mask(frame)
    found, others = matched[test][y[test]].mean(), matched[test][~y[test]].mean()
    assert s.held_out_found == pytest.approx(found)
    assert s.held_out_others == pytest.approx(others)
    assert s.held_out_accuracy == pytest.approx((found + 1 - others) / 2)
    tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=0.02, class_weight="balanced",
                                  random_state=11).fit(frame.to_numpy()[train], y[train])
    assert tree.score(frame.to_numpy()[train], y[train]) > 0.95


def test_a_segment_too_small_to_test_says_so():
    frame, labels, variables = _planted(n=400)
    labels = labels.copy()
    labels[:5] = 2
    rules = surrogate_rules(frame, labels, variables)
    tiny = rules.for_segment(2)
    assert tiny.n_test == 0 and tiny.shown == ()
    assert tiny.verdict.startswith("With 5 customers this segment is too small")


def test_rules_of_a_run_use_the_clustering_variables_in_their_units():
    result = run(to_tsv_bytes(planted_customers(900, seed=2)), replace(CHEAP, k=3),
                 name="planted.tsv")
    rules = persona_rules(result)
    fm = result.features
    assert set(rules.variables) == set(fm.features)
    assert all(s.simple for s in rules.segments), [s.verdict for s in rules.segments]
    columns = {fm.variables[v].label: v for v in rules.variables}
    assert _check_quoted_counts(rules, fm.frame, result.segmentation.labels, columns) >= 3
    table = rules.table()
    assert list(table["segment"].unique()) == [0, 1, 2]
    # Human units: the income threshold reads in money, not in standard deviations.
    income = [c.value for s in rules.segments for r in s.rules for c in r.conditions
              if fm.variables[c.variable].kind == "income"]
    assert income and all(abs(v) >= 1000 for v in income)


def test_real_file_rules_are_checkable(real_result):
    rules = persona_rules(real_result)
    fm = real_result.features
    columns = {fm.variables[v].label: v for v in rules.variables}
    assert _check_quoted_counts(rules, fm.frame, real_result.segmentation.labels, columns) >= 2
