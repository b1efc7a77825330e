"""Rules a CRM team can type as a filter: a shallow decision tree per persona.

Each segment is told apart from all other customers (one against the rest) by a
seeded :class:`sklearn.tree.DecisionTreeClassifier` of depth at most
:data:`~segmentation.config.RULES_MAX_DEPTH`, fitted on the clustering variables in
their own units (money, counts, shares), never on the scaled values. Every leaf
that predicts the segment is one rule: the conditions on its path, merged per
variable and rounded as a person would type them (money to two significant
figures, shares to whole percent, counts as whole numbers, yes/no flags as yes or
no). The figures quoted beside a rule are those of the rounded rule applied to
every customer, so anyone filtering the data with it gets the same counts.

The rules are fitted on three quarters of the customers (a seeded split,
stratified on the segment) and measured on the quarter held out: a segment whose
rules reach less than :data:`~segmentation.config.RULES_MIN_ACCURACY` balanced
accuracy there is said to have no simple rule, and no rule is offered for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from segmentation.config import (
    RULES_MAX_DEPTH,
    RULES_MAX_RULES,
    RULES_MEASURE_FIGURES,
    RULES_MIN_ACCURACY,
    RULES_MIN_LEAF_SHARE,
    RULES_MIN_SEGMENT,
    RULES_MONEY_FIGURES,
    RULES_SAMPLE_SIZE,
    RULES_TEST_SHARE,
)
from segmentation.prepare.variables import Variable

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

__all__ = ["Condition", "Rule", "SegmentRules", "PersonaRules", "surrogate_rules",
           "persona_rules"]

# Kinds whose values are amounts of money, and shares of a whole (0.25 = 25%).
_MONEY_KINDS = frozenset({"income", "spend", "total_spend", "money"})
_SHARE_KINDS = frozenset({"spend_share", "channel_share"})
_WORDS = {">": "above", "<=": "at most", ">=": "at least"}


@dataclass(frozen=True)
class Condition:
    """One condition of a rule, in the variable's own unit.

    ``op`` is ``">"``, ``"<="`` or ``">="`` (whole numbers: "at least");
    ``unit`` is ``"flag"``, ``"share"``, ``"count"``, ``"money"`` or ``"measure"``
    and decides how ``value`` is written.
    """

    variable: str
    label: str
    op: str
    value: float
    unit: str

    @property
    def text(self) -> str:
        """The condition in words, e.g. ``"Web purchases at least 4"``."""
        if self.unit == "flag":
            return f"{self.label}: {'yes' if self.op != '<=' else 'no'}"
        return f"{self.label} {_WORDS[self.op]} {_written(self.value, self.unit)}"

    def mask(self, values) -> np.ndarray:
        """Which of ``values`` (this variable's, in its unit) meet the condition."""
        values = np.asarray(values, dtype=float)
        if self.op == ">":
            return values > self.value
        if self.op == ">=":
            return values >= self.value
        return values <= self.value


@dataclass(frozen=True)
class Rule:
    """Conditions that all hold, and how many customers meet them (all customers)."""

    conditions: tuple[Condition, ...]
    n_segment: int  # customers of the segment meeting the rule
    segment_size: int
    n_others: int  # customers of other segments meeting it
    others_size: int

    @property
    def coverage(self) -> float:
        """Share of the segment's customers the rule matches."""
        return self.n_segment / self.segment_size if self.segment_size else math.nan

    @property
    def others_share(self) -> float:
        """Share of the other customers the rule matches (its false positives)."""
        return self.n_others / self.others_size if self.others_size else math.nan

    @property
    def text(self) -> str:
        """The rule with its figures, e.g. ``"Wine spend above 510 and Web purchases at
        least 4: 88% of this segment (412 of 468), 6% of others (98 of 1,772)"``."""
        return (f"{self.condition_text}: {self.coverage:.0%} of this segment "
                f"({self.n_segment:,} of {self.segment_size:,}), {self.others_share:.0%} of "
                f"others ({self.n_others:,} of {self.others_size:,})")

    @property
    def condition_text(self) -> str:
        return " and ".join(c.text for c in self.conditions)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` (the variables in their units) meet every condition."""
        out = np.ones(len(frame), dtype=bool)
        for c in self.conditions:
            out &= c.mask(frame[c.variable].to_numpy(dtype=float))
        return out


@dataclass(frozen=True)
class SegmentRules:
    """One segment's rules and how well they rebuild it on customers held out.

    ``held_out_found`` and ``held_out_others`` are the shares of the held-out
    customers of the segment, and of the others, that any rule matches;
    ``held_out_accuracy`` is their balanced accuracy (the mean of the share found
    and the share of others left out; chance is 0.5). ``train_accuracy`` is the
    same on the customers the tree was fitted on. The held-out figures are NaN
    when the segment is too small to test (``n_test == 0``).
    """

    segment: int
    rules: tuple[Rule, ...]
    size: int
    others_size: int
    held_out_found: float
    held_out_others: float
    held_out_accuracy: float
    train_accuracy: float
    n_train: int
    n_test: int
    max_conditions: int = RULES_MAX_DEPTH
    min_accuracy: float = RULES_MIN_ACCURACY
    min_segment: int = RULES_MIN_SEGMENT

    @property
    def simple(self) -> bool:
        """Whether the rules rebuild the segment well enough to be offered."""
        return bool(self.rules) and self.held_out_accuracy >= self.min_accuracy

    @property
    def shown(self) -> tuple[Rule, ...]:
        """The rules to offer: none when the segment has no simple rule."""
        return self.rules if self.simple else ()

    @property
    def verdict(self) -> str:
        """One sentence on how well the rules rebuild the segment, with its figures."""
        if self.n_test == 0:
            return (f"With {self.size:,} customers this segment is too small to test a rule "
                    f"on customers held out from fitting (at least {self.min_segment} needed).")
        held_out = (f"{self.held_out_found:.0%} of it and {self.held_out_others:.0%} of the "
                    f"other customers held out from fitting (balanced accuracy "
                    f"{self.held_out_accuracy:.0%}")
        if not self.rules:
            return ("This segment has no simple rule: no combination of up to "
                    f"{self.max_conditions} conditions picks out more of its customers than "
                    "of the others.")
        if not self.simple:
            return (f"This segment has no simple rule: the best rules of up to "
                    f"{self.max_conditions} conditions find {held_out}, below "
                    f"{self.min_accuracy:.0%}), so only all the clustering variables together "
                    "tell it apart.")
        return (f"These rules rebuild {self.held_out_found:.0%} of this segment on customers "
                f"they were not fitted on, and match {self.held_out_others:.0%} of the others "
                f"there (balanced accuracy {self.held_out_accuracy:.0%}, {self.n_test:,} "
                "customers held out).")


@dataclass(frozen=True)
class PersonaRules:
    """Every segment's rules; ``variables`` are the columns the trees could use."""

    segments: tuple[SegmentRules, ...]
    variables: tuple[str, ...]
    max_conditions: int = RULES_MAX_DEPTH
    test_share: float = RULES_TEST_SHARE
    sample_size: int = RULES_SAMPLE_SIZE

    @property
    def method(self) -> str:
        """How the rules were found and what their figures count, in two sentences."""
        return (f"Each segment is told apart from all other customers by a decision tree of "
                f"at most {self.max_conditions} conditions on the clustering variables, in "
                f"their own units, fitted on {1 - self.test_share:.0%} of the customers (of a "
                f"sample of {self.sample_size:,} in larger files). The figures beside a rule "
                "count every customer meeting it, as a filter typed into a CRM tool would; the "
                "sentence under each segment says how well its rules hold on the customers "
                "held out from fitting.")

    def for_segment(self, segment: int) -> SegmentRules:
        return next(s for s in self.segments if s.segment == segment)

    def table(self) -> pd.DataFrame:
        """One row per rule offered: ``segment``, ``rule`` (1, 2, ...), ``text``,
        ``conditions``, ``n_segment``, ``segment_size``, ``n_others``, ``others_size``."""
        rows = [{"segment": s.segment, "rule": i, "text": r.text,
                 "conditions": r.condition_text, "n_segment": r.n_segment,
                 "segment_size": r.segment_size, "n_others": r.n_others,
                 "others_size": r.others_size}
                for s in self.segments for i, r in enumerate(s.shown, start=1)]
        return pd.DataFrame(rows, columns=["segment", "rule", "text", "conditions",
                                           "n_segment", "segment_size", "n_others",
                                           "others_size"])


def surrogate_rules(frame: pd.DataFrame, labels: Sequence[int],
                    variables: Mapping[str, Variable], *,
                    max_depth: int = RULES_MAX_DEPTH,
                    min_leaf_share: float = RULES_MIN_LEAF_SHARE,
                    max_rules: int = RULES_MAX_RULES,
                    test_share: float = RULES_TEST_SHARE,
                    min_accuracy: float = RULES_MIN_ACCURACY,
                    min_segment: int = RULES_MIN_SEGMENT,
                    sample_size: int = RULES_SAMPLE_SIZE,
                    random_state: int = 0) -> PersonaRules:
    """Rules telling each segment from the rest, in the variables' own units.

    Parameters
    ----------
    frame : DataFrame
        One row per customer, one column per variable, in natural units, no
        missing values (e.g. :attr:`FeatureMatrix.frame` of the clustering variables).
    labels : sequence of int
        Each row's segment.
    variables : mapping
        ``{column: Variable}`` for the columns of ``frame`` to use: the label is
        written in the rules, the kind decides the unit.
    max_depth, min_leaf_share, max_rules, test_share, min_accuracy, min_segment, sample_size
        See the ``RULES_*`` settings of :mod:`segmentation.config`.
    random_state : int
        Seeds the sample, the held-out split and the trees.

    Returns
    -------
    PersonaRules

    Examples
    --------
    >>> from segmentation.prepare.variables import Variable
    >>> x = np.repeat(np.arange(100.0), 4)
    >>> rules = surrogate_rules(pd.DataFrame({"x": x}), (x > 60).astype(int),
    ...                         {"x": Variable("x", "Visits", "Measures", "other", ("x",))})
    >>> rules.for_segment(1).shown[0].text
    'Visits at least 61: 100% of this segment (156 of 156), 0% of others (0 of 244)'
    """
    names = list(variables)
    labels = np.asarray(labels, dtype=np.int64)
    values = frame[names].to_numpy(dtype=float)
    units = {n: _unit(variables[n], values[:, i]) for i, n in enumerate(names)}
    rng = np.random.default_rng(random_state)
    fitted = (np.sort(rng.choice(len(labels), sample_size, replace=False))
              if len(labels) > sample_size else np.arange(len(labels)))
    out = []
    for k in np.unique(labels):
        y = labels == k
        tree_args = {"max_depth": max_depth, "min_leaf_share": min_leaf_share,
                     "max_rules": max_rules, "random_state": random_state}
        out.append(_segment_rules(
            int(k), values, y, fitted, names, variables, units, tree_args,
            test_share=test_share, min_segment=min_segment,
            limits=(max_depth, min_accuracy, min_segment)))
    return PersonaRules(segments=tuple(out), variables=tuple(names), max_conditions=max_depth,
                        test_share=test_share, sample_size=sample_size)


def persona_rules(result: SegmentationResult) -> PersonaRules:
    """:func:`surrogate_rules` for a run: its clustering variables, its segments, its seed.

    A category stands for its 0/1 levels (yes/no conditions); a composite of two
    amounts that are not money is a sum of z-scores, so its two variables are used
    instead, in their own units.
    """
    fm = result.features
    names: list[str] = []
    for f in fm.features:
        var = fm.variables[f]
        parts = var.sources if var.kind == "composite" and not var.is_spend else (f,)
        names += [p for p in parts if p in fm.frame.columns and p in fm.variables]
    names = list(dict.fromkeys(names))
    return surrogate_rules(fm.frame, result.segmentation.labels,
                           {n: fm.variables[n] for n in names},
                           random_state=result.config.random_state)


def _segment_rules(segment: int, values: np.ndarray, y: np.ndarray, fitted: np.ndarray,
                   names: list[str], variables: Mapping[str, Variable],
                   units: Mapping[str, str], tree_args: dict, *, test_share: float,
                   min_segment: int, limits: tuple) -> SegmentRules:
    """One segment against the rest: split, fit, read the rules, measure them."""
    max_depth, min_accuracy, min_segment = limits
    size, others = int(y.sum()), int((~y).sum())
    base = {"segment": segment, "size": size, "others_size": others,
            "max_conditions": max_depth, "min_accuracy": min_accuracy,
            "min_segment": min_segment}
    y_fit = y[fitted]
    if min(int(y_fit.sum()), int((~y_fit).sum())) < min_segment:
        return SegmentRules(rules=(), held_out_found=math.nan, held_out_others=math.nan,
                            held_out_accuracy=math.nan, train_accuracy=math.nan,
                            n_train=0, n_test=0, **base)
    train, test = train_test_split(fitted, test_size=test_share, stratify=y_fit,
                                   random_state=tree_args["random_state"])
    tree = DecisionTreeClassifier(
        max_depth=tree_args["max_depth"], min_samples_leaf=tree_args["min_leaf_share"],
        # Balanced: a segment of 10% would otherwise rarely win a leaf, and its rules are
        # what is asked for; the share of others matched says what that costs.
        class_weight="balanced", random_state=tree_args["random_state"],
    ).fit(values[train], y[train])
    paths = _positive_leaves(tree)[:tree_args["max_rules"]]
    rules = []
    for bounds in paths:
        conditions = tuple(c for i in sorted(bounds) for c in
                           _conditions(names[i], variables[names[i]].label, units[names[i]],
                                       *bounds[i]))
        matched = _matches(conditions, values, names)
        rules.append(Rule(conditions, int((matched & y).sum()), size,
                          int((matched & ~y).sum()), others))
    union = np.zeros(len(y), dtype=bool)
    for r in rules:
        union |= _matches(r.conditions, values, names)
    found, others_matched = _rates(union[test], y[test])
    train_found, train_others = _rates(union[train], y[train])
    return SegmentRules(rules=tuple(rules), held_out_found=found,
                        held_out_others=others_matched,
                        held_out_accuracy=(found + 1 - others_matched) / 2,
                        train_accuracy=(train_found + 1 - train_others) / 2,
                        n_train=len(train), n_test=len(test), **base)


def _matches(conditions: tuple[Condition, ...], values: np.ndarray,
             names: list[str]) -> np.ndarray:
    out = np.ones(len(values), dtype=bool)
    for c in conditions:
        out &= c.mask(values[:, names.index(c.variable)])
    return out


def _rates(matched: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Share of the segment matched, share of the others matched."""
    return float(matched[y].mean()), float(matched[~y].mean())


def _positive_leaves(tree: DecisionTreeClassifier) -> list[dict[int, tuple[float, float]]]:
    """The paths to the leaves predicting the segment, as ``{feature: (low, high)}`` bounds
    (``low < x <= high``), the leaves holding most of the segment's training customers first.

    A split whose two sides both predict the segment says nothing about it: such a subtree
    is read as one leaf, so the rule leaves the split's condition out.
    """
    t = tree.tree_
    if True not in tree.classes_:
        return []
    positive = list(tree.classes_).index(True)

    def predicts(node: int) -> bool:
        left, right = t.children_left[node], t.children_right[node]
        if left == right:
            return int(np.argmax(t.value[node][0])) == positive
        return predicts(left) and predicts(right)

    found = []

    def walk(node: int, bounds: dict[int, tuple[float, float]]) -> None:
        left, right = t.children_left[node], t.children_right[node]
        if predicts(node):
            # value holds class-weighted fractions: their ranking is by weighted count
            found.append((t.value[node][0][positive] * t.weighted_n_node_samples[node], bounds))
            return
        if left == right:
            return
        f, cut = int(t.feature[node]), float(t.threshold[node])
        low, high = bounds.get(f, (-math.inf, math.inf))
        walk(left, {**bounds, f: (low, min(high, cut))})
        walk(right, {**bounds, f: (max(low, cut), high)})

    walk(0, {})
    return [b for _, b in sorted(found, key=lambda item: -item[0])]


def _unit(var: Variable, values: np.ndarray) -> str:
    """How a variable's thresholds are written, from its kind and its values."""
    finite = values[np.isfinite(values)]
    if finite.size and np.isin(finite, (0.0, 1.0)).all():
        return "flag"
    if var.kind in _SHARE_KINDS:
        return "share"
    if var.kind in _MONEY_KINDS or var.is_spend:
        return "money"
    if finite.size and np.array_equal(finite, np.round(finite)):
        return "count"
    return "measure"


def _conditions(name: str, label: str, unit: str, low: float, high: float,
                ) -> tuple[Condition, ...]:
    """The bounds ``low < x <= high`` of one variable, rounded for typing."""
    out = []
    if math.isfinite(low):
        if unit == "count":  # whole numbers: x > 3.5 is x >= 4, exactly
            out.append(Condition(name, label, ">=", float(math.floor(low) + 1), unit))
        else:
            out.append(Condition(name, label, ">", _rounded(low, unit), unit))
    if math.isfinite(high):
        value = float(math.floor(high)) if unit == "count" else _rounded(high, unit)
        out.append(Condition(name, label, "<=", value, unit))
    return tuple(out)


def _rounded(value: float, unit: str) -> float:
    """A threshold as a person would type it; see the ``RULES_*_FIGURES`` settings."""
    if unit == "flag":
        return 0.5  # between no (0) and yes (1): the tree's own cut
    if unit == "share":
        return round(value, 2)  # whole percent
    if value == 0:
        return 0.0
    figures = RULES_MONEY_FIGURES if unit == "money" else RULES_MEASURE_FIGURES
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    if unit == "money":
        digits = min(digits, 0)  # never cents
    return float(round(value, digits))


def _written(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.0%}"
    if unit in ("count", "money") or value == round(value):
        return f"{value:,.0f}"
    decimals = max(0, RULES_MEASURE_FIGURES - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"
