"""In words, when a K sweep worked on a sample of the customers rather than all of them."""

from __future__ import annotations

from segmentation.cluster.kmeans import KSweep
from segmentation.config import FIT_SAMPLE_SIZE


def sampled_fit_note(sweep: KSweep, n_customers: int,
                     fit_sample_size: int = FIT_SAMPLE_SIZE) -> str | None:
    """One sentence saying the sweep fitted on a sample, or None when it used every customer.

    The sweep's k-means++ restarts run on a fixed-seed sample above
    ``fit_sample_size`` customers, and its silhouettes on a sample of
    ``sweep.silhouette_sample_size``; every customer is still assigned to a
    segment, which a reader of the K panel should not have to guess.

    Parameters
    ----------
    sweep : KSweep
    n_customers : int
        The customers the sweep was given.
    fit_sample_size : int
        The sample size above which the sweep's fits are sampled.

    Examples
    --------
    >>> import pandas as pd
    >>> sweep = KSweep(pd.DataFrame({"k": [3]}), 3, "", None, 4000, 0, 10)
    >>> sampled_fit_note(sweep, 1_000_000)
    'K chosen on a sample of 20,000 of 1,000,000 customers (silhouettes on 4,000); every customer is then assigned to its nearest segment.'
    >>> sampled_fit_note(sweep, 5000)
    'Silhouettes measured on a sample of 4,000 of 5,000 customers; every customer is then assigned to its nearest segment.'
    >>> exact = KSweep(pd.DataFrame({"k": [3]}), 3, "", None, None, 0, 10)
    >>> sampled_fit_note(exact, 3000) is None
    True
    """
    fitted = n_customers > fit_sample_size
    silhouette = sweep.silhouette_sample_size
    if not fitted and silhouette is None:
        return None
    if fitted:
        text = f"K chosen on a sample of {fit_sample_size:,} of {n_customers:,} customers"
        if silhouette is not None:
            text += f" (silhouettes on {silhouette:,})"
    else:
        text = f"Silhouettes measured on a sample of {silhouette:,} of {n_customers:,} customers"
    return text + "; every customer is then assigned to its nearest segment."
