"""The K panel's sentence about sampled fits, from the sweep's own record."""

from __future__ import annotations

import pandas as pd

from segmentation.cluster.kmeans import KSweep
from segmentation.config import FIT_SAMPLE_SIZE
from segmentation.describe.sampling import sampled_fit_note


def sweep_with(silhouette_sample_size: int | None) -> KSweep:
    return KSweep(metrics=pd.DataFrame({"k": [2, 3]}), recommended_k=3, reason="",
                  knee_k=None, silhouette_sample_size=silhouette_sample_size,
                  random_state=0, n_init=10)


def test_a_sweep_on_every_customer_says_nothing():
    assert sampled_fit_note(sweep_with(None), FIT_SAMPLE_SIZE) is None


def test_fits_on_a_sample_name_both_sizes_and_that_everyone_is_assigned():
    note = sampled_fit_note(sweep_with(4000), 1_000_000)
    assert note.startswith(f"K chosen on a sample of {FIT_SAMPLE_SIZE:,} of 1,000,000 customers")
    assert "silhouettes on 4,000" in note and "every customer is then assigned" in note


def test_only_the_silhouette_sampled_says_so():
    note = sampled_fit_note(sweep_with(4000), 5000)
    assert note.startswith("Silhouettes measured on a sample of 4,000 of 5,000 customers")
    assert "K chosen" not in note


def test_the_fit_sample_size_is_the_callers():
    assert sampled_fit_note(sweep_with(None), 150, fit_sample_size=100).startswith(
        "K chosen on a sample of 100 of 150 customers;")
