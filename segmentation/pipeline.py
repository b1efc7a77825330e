"""One call from a file to named segments: load → prepare → sweep K → segment → profile → name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.cluster.kmeans import (
    DEFAULT_K_RANGE,
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    MAX_K,
    KSweep,
    Segmentation,
    quality_warnings,
    segment,
    sweep_k,
)
from segmentation.cluster.methods import METHOD_LABELS, MethodFit, check_method, segment_with
from segmentation.cluster.strata import StrataFit, parse_strata, segment_within_strata
from segmentation.config import (
    DEFAULT_INPUT_KIND,
    DEFAULT_METHOD,
    MAX_N_INIT,
)
from segmentation.data.customer_file import RawTable, release_arrow_memory
from segmentation.data.dataset import Dataset, load_dataset
from segmentation.data.orders import read_customers
from segmentation.describe.personas import Persona, suggest_personas
from segmentation.describe.profiles import Profiles, profile_segments
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix, PrepConfig, prepare
from segmentation.summary import Summary


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a segmentation besides the data.

    ``k=None`` takes the recommended K of the sweep over ``k_min..k_max``.
    """

    prep: PrepConfig = field(default_factory=PrepConfig)
    k: int | None = None
    k_min: int = DEFAULT_K_RANGE[0]
    k_max: int = DEFAULT_K_RANGE[1]
    random_state: int = DEFAULT_SEED
    n_init: int = DEFAULT_N_INIT
    id_column: str | None = None
    roles: tuple[tuple[str, str], ...] = ()
    stability: bool = True  # split-half agreement per K in the sweep
    input_kind: str = DEFAULT_INPUT_KIND  # "customers", "transactions" (order lines) or "auto"
    log_map: tuple[tuple[str, str], ...] = ()  # order-log fields → columns
    reference_date: str | None = None  # recency of an order log counted to this day
    sheet: str | None = None  # the sheet of an Excel workbook; None: the first holding a table
    method: str = DEFAULT_METHOD  # kmeans, gmm, ward, hdbscan or kprototypes
    strata: str | None = None  # segments within strata of a column, e.g. "Income:3" or "Region"

    def __post_init__(self):
        # Types first: a tampered bundle may hold "3" or 3.5 where a whole number belongs.
        for what, value in (("K", self.k), ("k-min", self.k_min), ("k-max", self.k_max),
                            ("the seed", self.random_state), ("n_init", self.n_init)):
            if value is None and what == "K":
                continue
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise SegmentationError(
                    f"{what} must be a whole number, not {value!r}: use e.g. "
                    f"{'10' if what == 'n_init' else '4' if what != 'the seed' else '42'}."
                )
        if not 2 <= self.k_min <= self.k_max <= MAX_K:
            raise SegmentationError(
                f"The K range {self.k_min}..{self.k_max} is not valid: "
                f"use 2 <= k-min <= k-max <= {MAX_K}."
            )
        if self.k is not None and not 2 <= self.k <= MAX_K:
            raise SegmentationError(f"K = {self.k} is not valid: choose K from 2 to {MAX_K}.")
        if not 0 <= self.random_state < 2**32:
            raise SegmentationError(
                f"The seed {self.random_state} is not valid: use a whole number from 0 to "
                f"{2**32 - 1}."
            )
        if self.strata is not None:
            parse_strata(self.strata)  # a bad spec is refused before any work
        if not 1 <= self.n_init <= MAX_N_INIT:
            raise SegmentationError(
                f"n_init = {self.n_init} is not valid: use a whole number from 1 to "
                f"{MAX_N_INIT} (restarts beyond that only cost time)."
            )
        check_method(self.method)
        if self.strata is not None and self.method != DEFAULT_METHOD:
            raise SegmentationError(
                "Segments within strata are found with k-means: drop the strata or choose "
                "the k-means method.")

    @property
    def k_values(self) -> range:
        low = min(self.k_min, self.k or self.k_min)
        high = max(self.k_max, self.k or self.k_max)
        return range(low, high + 1)


@dataclass(frozen=True)
class SegmentationResult:
    """The whole run, stage by stage; exports read from here."""

    raw: RawTable
    dataset: Dataset
    features: FeatureMatrix
    sweep: KSweep
    segmentation: Segmentation
    profiles: Profiles
    personas: tuple[Persona, ...]
    config: RunConfig
    method_fit: MethodFit | None = None  # the fit behind the segments when not k-means
    method_reason: str = ""  # how that method's K was chosen, when not by the sweep
    strata: StrataFit | None = None  # how the segments were found within strata, if they were

    @property
    def chosen_k(self) -> int:
        return self.segmentation.n_clusters

    @property
    def warnings(self) -> tuple[str, ...]:
        seg = self.segmentation
        return (self.dataset.notes + self.features.report.warnings
                + tuple(c.message for c in self.features.report.correlated)
                + quality_warnings(seg.silhouette, seg.shares, seg.labels.size))

    def summary(self, personas: tuple[Persona, ...] | None = None) -> Summary:
        """The run at a glance: the file, the segments and why this K.

        Parameters
        ----------
        personas : tuple of Persona, optional
            The names to show (e.g. with a user's edits); default :attr:`personas`.

        Returns
        -------
        Summary
            ``verdict`` is the sweep's reason for its K; ``table`` has one row per segment:
            ``segment``, ``persona``, ``size`` (customers) and ``share``; ``notes`` are
            :attr:`warnings`. When K was chosen by hand, the verdict says so and the
            sweep's reason for its own K comes first among the notes.

        Examples
        --------
        >>> print(run("sample_data/marketing_campaign_sample.csv").summary())  # doctest: +SKIP
        """
        seg = self.segmentation
        names = {p.segment: p.name for p in (self.personas if personas is None else personas)}
        segments = np.arange(self.chosen_k)
        table = pd.DataFrame({"segment": segments,
                              "persona": [names.get(int(s)) for s in segments],
                              "size": np.asarray(seg.sizes, dtype=np.int64),
                              "share": np.asarray(seg.shares, dtype=float)})
        verdict, notes = self.sweep.reason, self.warnings
        if self.chosen_k != self.sweep.recommended_k:
            # The sweep's reason argues for its own K: shown as a note, not as the verdict.
            verdict = (f"K = {self.chosen_k} was chosen by hand; the sweep recommends "
                       f"K = {self.sweep.recommended_k}.")
            notes = (f"The sweep: {self.sweep.reason}", *notes)
        if self.method_fit is not None:
            fit = self.method_fit
            verdict = (f"Segmented with {METHOD_LABELS[fit.method]}: "
                       f"{self.method_reason or verdict}")
            notes = (*notes, f"New customers are scored by the {fit.rule}.",
                     *((fit.note,) if fit.note else ()))
        return Summary(
            title=f"{self.raw.name}: {seg.labels.size:,} customers in {self.chosen_k} "
                  f"segments, silhouette {seg.silhouette:.2f}",
            verdict=verdict, table=table, notes=tuple(notes))


# The stages ``progress`` is told about, in order; a caller may show them as they come.
STAGE_READING = "reading"
STAGE_PREPARING = "preparing"
STAGE_SWEEPING = "sweeping K"
STAGE_SEGMENTING = "segmenting"


def _silent(stage: str) -> None:
    """The default ``progress``: nobody is watching."""


def run(source: bytes | str | Path | pd.DataFrame | RawTable, config: RunConfig | None = None,
        name: str | None = None,
        progress: Callable[[str], None] | None = None) -> SegmentationResult:
    """Segment a customer file end to end with the given settings.

    Parameters
    ----------
    source : bytes, str, Path, DataFrame or RawTable
        The customer file (or order log), its bytes, a pandas DataFrame (read as its CSV
        export would be), or a table already read.
    config : RunConfig, optional
        The settings; default ``RunConfig()``.
    name : str, optional
        The file's name when ``source`` is bytes.
    progress : callable, optional
        Called with each stage's name as it starts (:data:`STAGE_READING`,
        :data:`STAGE_PREPARING`, :data:`STAGE_SWEEPING`, :data:`STAGE_SEGMENTING`), e.g.
        to show it on a terminal. It must not raise.

    Examples
    --------
    >>> from segmentation import run, RunConfig
    >>> result = run("sample_data/marketing_campaign_sample.csv")  # doctest: +SKIP
    >>> [p.name for p in result.personas]  # doctest: +SKIP
    ['High-Income Wine & Meat Lovers, Catalog', ...]
    """
    config = config or RunConfig()
    progress = progress or _silent
    progress(STAGE_READING)
    raw = read_customers(source, config.input_kind, dict(config.log_map),
                         config.reference_date, name=name, sheet=config.sheet)
    dataset = load_dataset(raw, roles=dict(config.roles), id_column=config.id_column)
    # Every cell as read is text, several times the typed dataset's size (about 0.8 GB at
    # a million customers), and nothing downstream needs it: the dataset records where
    # every line went and what each column looked like.
    raw = replace(raw, frame=raw.frame.iloc[:, :0])
    release_arrow_memory()  # the numbers were parsed in Arrow
    progress(STAGE_PREPARING)
    fm = prepare(dataset, config.prep)
    progress(STAGE_SWEEPING)
    if config.strata is not None:  # each stratum sweeps its own K
        return assemble(raw, dataset, fm, None, config, progress)
    sweep = sweep_k(fm, config.k_values, config.random_state, config.n_init,
                    stability=config.stability)
    return assemble(raw, dataset, fm, sweep, config, progress)


def assemble(raw: RawTable, dataset: Dataset, fm: FeatureMatrix, sweep: KSweep | None,
             config: RunConfig,
             progress: Callable[[str], None] | None = None) -> SegmentationResult:
    """The last stages of :func:`run`: segment at the chosen K, profile, name.

    Split out so callers that cache the earlier stages (the app) finish a run
    exactly as the command line does. ``progress`` is as in :func:`run`. With
    ``config.strata`` the segments are found within strata
    (:func:`segmentation.cluster.strata.segment_within_strata`) and ``sweep`` is not used.
    """
    (progress or _silent)(STAGE_SEGMENTING)
    if config.strata is not None:
        fit = segment_within_strata(
            fm, dataset, config.strata, config.k_values if config.k is None else (config.k,),
            config.k, config.random_state, config.n_init, config.stability,
            label=fm.preparation.labels.get(parse_strata(config.strata).column),
            prep=config.prep)
        return SegmentationResult(raw=raw, dataset=dataset, features=fit.features,
                                  sweep=fit.sweep, segmentation=fit.segmentation,
                                  profiles=profile_segments(fit.features, fit.segmentation),
                                  personas=fit.personas, config=config, strata=fit)
    k = config.k or sweep.recommended_k
    fit, reason = None, ""
    if config.method == DEFAULT_METHOD:
        seg = segment(fm, k, config.random_state, config.n_init, sweep=sweep)
    else:
        by_method = segment_with(fm, config.method, config.k, config.k_values,
                                 sweep.recommended_k, config.random_state, config.n_init)
        fm, seg, fit = by_method.features, by_method.segmentation, by_method.fit
        reason = by_method.k_reason
    profiles = profile_segments(fm, seg)
    return SegmentationResult(raw=raw, dataset=dataset, features=fm, sweep=sweep,
                              segmentation=seg, profiles=profiles,
                              personas=suggest_personas(profiles), config=config,
                              method_fit=fit, method_reason=reason)
