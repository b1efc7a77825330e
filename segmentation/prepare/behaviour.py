"""The behaviour-first preset: cluster on what customers do, profile who they are.

Clustered on income, age and spend levels together, k-means tends to cut the largest of
them into bands; the segments are then a demographic split with behaviour averaged over
it. The preset clusters on the mix of what customers buy and how (spend shares, channel
shares, deals, recency, purchase counts, total spend on a log scale) and leaves
demographics and money levels to describe the segments afterwards.
"""

from __future__ import annotations

from dataclasses import replace

from segmentation.data.orders import OrderLog
from segmentation.errors import SegmentationError
from segmentation.prepare.features import PrepConfig
from segmentation.prepare.variables import Variable

# Amounts, counts and durations are log-scaled under this preset: total spend and purchase
# counts are heavily skewed, and on a log scale a customer's level weighs like their mix
# instead of drowning it.
BEHAVIOUR_SCALING = "log"
#: Kinds that say what a customer does, whatever the file (shares are preferred to the
#: amounts and counts they are made of; see :func:`behaviour_features`).
_ALWAYS = frozenset({"spend_share", "channel_share", "deals", "web_visits", "recency",
                     "overdue", "total_purchases", "total_spend", "other"})


def behaviour_features(variables: dict[str, Variable],
                       log: OrderLog | None = None) -> tuple[str, ...]:
    """The clustering variables that describe behaviour, in catalogue order.

    For a customer table: the spend shares, channel shares, deal purchases, web visits,
    recency, total purchases, total spend and the file's other measures (amounts, counts
    and durations of unknown meaning), all from the roles the engine inferred. Spend per
    category and purchases per channel come in only where no shares were derived (a single
    spend or channel column). Demographics (income, age, household, education, tenure),
    money levels (balances, fees), categories, flags and outcomes stay out: they describe
    the segments. For an order log: the log's own starting variables, without its money
    levels other than those it log-scales (the total spend).

    Parameters
    ----------
    variables : dict
        ``{name: Variable}``, e.g. :func:`segmentation.prepare.features.variables_of`.
    log : OrderLog, optional
        The order log the customers were aggregated from (``Dataset.log``).

    Returns
    -------
    tuple of str

    Raises
    ------
    SegmentationError
        Fewer than two behaviour variables in the file.
    """
    if log is not None:
        chosen = [f for f in log.default_features if f in variables
                  and (variables[f].kind != "money" or f in log.log_features)]
    else:
        kinds = {v.kind for v in variables.values()}
        wanted = set(_ALWAYS)
        if "spend_share" not in kinds:
            wanted.add("spend")
        if "channel_share" not in kinds:
            wanted.add("channel")
        chosen = [n for n, v in variables.items() if v.kind in wanted]
    if len(chosen) < 2:
        raise SegmentationError(
            "This file has fewer than two behaviour variables (spend mix, channels, "
            "recency, purchase counts) to cluster on: choose the clustering variables by hand."
        )
    return tuple(chosen)


def behaviour_prep(prep: PrepConfig, variables: dict[str, Variable],
                   log: OrderLog | None = None) -> PrepConfig:
    """``prep`` with the behaviour-first variables and scaling; weights and composites of
    the previous choice are dropped (they were about other variables)."""
    return replace(prep, features=behaviour_features(variables, log),
                   scaling=BEHAVIOUR_SCALING, weights=(), composites=())
