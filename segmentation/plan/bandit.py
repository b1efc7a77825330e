"""A simulation of Thompson sampling against a fixed 50/50 split of two message variants.

This is a simulation, not a measurement: the true conversion rate of each
variant is stated up front and every visitor's response is drawn at random
from it. It shows what an adaptive test would have done with those rates.

Each visitor would convert on variant ``v`` with probability
``true_rates[v]``. To compare the two policies fairly, both face the same
visitors: for every visitor one uniform number per variant is drawn, and the
visitor converts on the variant shown if that number is below its rate
(common random numbers).

* The **bandit** keeps a Beta posterior per variant (starting from ``prior``),
  draws one value from each posterior and shows the variant with the larger
  draw, then updates that variant's posterior with the visitor's response.
* The **fixed split** shows each visitor one variant at random, 50/50.

Regret is the expected number of conversions lost against always showing the
best variant: the sum over visitors of ``best rate - rate of the variant
shown``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.config import BANDIT_VISITORS, DEFAULT_SEED
from segmentation.errors import SegmentationError
from segmentation.summary import Summary


@dataclass(frozen=True)
class Simulation:
    """The outcome of one simulated run of both policies.

    Attributes
    ----------
    true_rates : dict
        The stated conversion rate of each of the two variants.
    n_visitors : int
    best, worse : str
        The variants with the higher and lower rate (with equal rates, the
        first and second given).
    traffic : DataFrame
        One row per visitor: ``visitor`` (1-based), ``bandit_variant`` and
        ``split_variant`` (the variant shown), and ``bandit_share_worse`` /
        ``split_share_worse``, the cumulative share of visitors so far sent
        to the worse variant.
    bandit_shown, split_shown : dict
        Visitors sent to each variant.
    bandit_conversions, split_conversions : int
        Conversions each policy obtained.
    bandit_regret, split_regret : float
        Expected conversions lost against always showing the best variant.
    bandit_share_worse, split_share_worse : float
        Share of all visitors sent to the worse variant.
    """

    true_rates: dict
    n_visitors: int
    best: str
    worse: str
    traffic: pd.DataFrame
    bandit_shown: dict
    split_shown: dict
    bandit_conversions: int
    split_conversions: int
    bandit_regret: float
    split_regret: float
    bandit_share_worse: float
    split_share_worse: float

    def summary(self) -> Summary:
        """The rates and the result in one sentence, and each policy's figures.

        Returns
        -------
        Summary
            ``table`` has one row per policy (``bandit``, ``split``): visitors sent to the
            best and to the worse variant, the share sent to the worse, conversions and
            regret (expected conversions lost against always showing the best variant).
        """
        table = pd.DataFrame({
            "policy": ["bandit", "split"],
            "visitors_best": [self.bandit_shown[self.best], self.split_shown[self.best]],
            "visitors_worse": [self.bandit_shown[self.worse], self.split_shown[self.worse]],
            "share_worse": [self.bandit_share_worse, self.split_share_worse],
            "conversions": [self.bandit_conversions, self.split_conversions],
            "regret": [self.bandit_regret, self.split_regret],
        })
        return Summary(
            title=f"Bandit simulation: {self.n_visitors:,} visitors, best variant {self.best}, "
                  f"worse {self.worse}",
            verdict=_verdict(self), table=table)


def _check(true_rates: Mapping[str, float], n_visitors: int,
           prior: tuple[float, float]) -> tuple[list[str], np.ndarray]:
    if len(true_rates) != 2:
        raise SegmentationError(
            f"The simulation compares exactly two variants, not {len(true_rates)}: pass two "
            "true rates, e.g. {'A': 0.10, 'B': 0.12}."
        )
    names = [str(k) for k in true_rates]
    rates = np.array([float(v) for v in true_rates.values()])
    if not all(math.isfinite(r) and 0 <= r <= 1 for r in rates):
        raise SegmentationError(
            f"True rates must be proportions between 0 and 1, not {list(rates)}: e.g. 0.10 "
            "for 10%."
        )
    if isinstance(n_visitors, bool) or not isinstance(n_visitors, int | np.integer) \
            or n_visitors < 1:
        raise SegmentationError(
            f"n_visitors must be a positive whole number, not {n_visitors!r}: e.g. 10000."
        )
    if len(prior) != 2 or not all(math.isfinite(p) and p > 0 for p in prior):
        raise SegmentationError(
            f"The prior must be two positive numbers (alpha, beta), not {prior!r}: e.g. (1, 1)."
        )
    return names, rates


def simulate(true_rates: Mapping[str, float], n_visitors: int = BANDIT_VISITORS,
             random_state: int | None = DEFAULT_SEED,
             prior: tuple[float, float] = (1, 1)) -> Simulation:
    """Simulate Beta-Bernoulli Thompson sampling against a fixed 50/50 split.

    Parameters
    ----------
    true_rates : mapping of str to float
        Exactly two variants and their stated conversion rates, e.g.
        ``{"A": 0.10, "B": 0.12}``.
    n_visitors : int
        Visitors in the simulation.
    random_state : int, optional
        Seed; the same seed gives the same run on the same Python version (the posterior
        draws use Python's ``random.betavariate``).
    prior : (float, float)
        Beta prior ``(alpha, beta)`` of every variant's rate; ``(1, 1)`` is
        uniform.

    Returns
    -------
    Simulation

    Raises
    ------
    SegmentationError
        If there are not two variants, a rate is not a proportion, or
        ``n_visitors`` or ``prior`` are invalid.

    Examples
    --------
    >>> sim = simulate({"A": 0.05, "B": 0.10}, n_visitors=2000, random_state=1)
    >>> sim.bandit_share_worse < sim.split_share_worse
    True
    """
    names, rates = _check(true_rates, n_visitors, prior)
    n = int(n_visitors)
    rng = np.random.default_rng(random_state)
    uniforms = rng.random((n, 2))
    responses = uniforms < rates  # responses[t, v]: visitor t converts if shown variant v
    split = rng.integers(0, 2, size=n)
    # Each visitor's two posterior draws come from Python's own generator, seeded from the
    # same stream: one numpy call per visitor made the loop three times as long, and it is
    # the Plan page's first visit.
    betavariate = random.Random(int(rng.integers(2**63))).betavariate
    successes, failures = [0, 0], [0, 0]
    chosen_by_visitor = [0] * n
    shown = responses.tolist()
    a0, b0 = float(prior[0]), float(prior[1])
    for t in range(n):
        # The higher draw wins; the first variant on a tie, as argmax would pick.
        chosen = int(betavariate(a0 + successes[0], b0 + failures[0])
                     < betavariate(a0 + successes[1], b0 + failures[1]))
        chosen_by_visitor[t] = chosen
        if shown[t][chosen]:
            successes[chosen] += 1
        else:
            failures[chosen] += 1
    bandit = np.array(chosen_by_visitor, dtype=np.int64)
    best_index = int(np.argmax(rates))  # first of equal rates
    worse_index = 1 - best_index
    visitors = np.arange(1, n + 1)
    bandit_worse = bandit == worse_index
    split_worse = split == worse_index
    traffic = pd.DataFrame({
        "visitor": visitors,
        "bandit_variant": np.array(names, dtype=object)[bandit],
        "split_variant": np.array(names, dtype=object)[split],
        "bandit_share_worse": np.cumsum(bandit_worse) / visitors,
        "split_share_worse": np.cumsum(split_worse) / visitors,
    })
    rows = np.arange(n)
    bandit_conversions = int(responses[rows, bandit].sum())
    split_conversions = int(responses[rows, split].sum())
    best_rate = float(rates.max())
    sim = dict(
        true_rates=dict(zip(names, rates.tolist(), strict=True)),
        n_visitors=n,
        best=names[best_index],
        worse=names[worse_index],
        traffic=traffic,
        bandit_shown={name: int((bandit == i).sum()) for i, name in enumerate(names)},
        split_shown={name: int((split == i).sum()) for i, name in enumerate(names)},
        bandit_conversions=bandit_conversions,
        split_conversions=split_conversions,
        bandit_regret=float(np.sum(best_rate - rates[bandit])),
        split_regret=float(np.sum(best_rate - rates[split])),
        bandit_share_worse=float(bandit_worse.mean()),
        split_share_worse=float(split_worse.mean()),
    )
    return Simulation(**sim)


def _rate(value: float) -> str:
    return f"{value * 100:.3g}%"


def _verdict(sim: Simulation) -> str:
    rates = ", ".join(f"{name} {_rate(rate)}" for name, rate in sim.true_rates.items())
    gain = sim.bandit_conversions - sim.split_conversions
    more = f"{gain} more" if gain >= 0 else f"{-gain} fewer"
    if len(set(sim.true_rates.values())) == 1:
        sent = (f"the variants convert equally, and the bandit sent "
                f"{sim.bandit_share_worse * 100:.0f}% of visitors to {sim.worse}")
    else:
        sent = (f"the bandit sent {sim.bandit_share_worse * 100:.0f}% of visitors to the "
                "worse variant")
    return (f"Simulation with true rates {rates}: {sent} against "
            f"{sim.split_share_worse * 100:.0f}% for a fixed split, {more} conversions.")
