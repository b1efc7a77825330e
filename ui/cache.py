"""Cached engine stages, keyed on the data's fingerprint and small frozen configs.

The file's bytes are passed as ``_data`` (underscore: Streamlit does not hash
it); the fingerprint stands for them. Each stage calls the one before it, so
moving K re-runs only the last stage and never re-parses the file.
``reading`` is how the file is read into customers: (input kind, order-log
mapping, reference date, id column), four small values
:class:`segmentation.RunConfig` carries too.

The stages from the customer table to the segmentation are resources, not data:
every session and every page gets the one frozen result instead of an unpickled
copy, which for a large file costs a good part of a second on each page. The
engine returns new objects and never edits its inputs, so sharing them is safe.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from segmentation import RunConfig, SegmentationError, SegmentationResult, run, score
from segmentation.cluster.kmeans import KSweep, add_stability, sweep_k
from segmentation.cluster.methods import MethodComparison, compare_methods
from segmentation.cluster.model import Model, Scores
from segmentation.cluster.rfm import rfm_of
from segmentation.cluster.splits import SplitTree, split_tree
from segmentation.cluster.strata import StrataFit, strata_bootstrap, strata_split_half
from segmentation.data.customer_file import RawTable, read_table, sheet_names
from segmentation.data.dataset import Dataset, load_dataset
from segmentation.data.orders import detect_mapping, looks_like_log, read_customers
from segmentation.describe import rules
from segmentation.describe.drivers import SplitWarning, run_drivers
from segmentation.export.bundle import Bundle, load_bundle
from segmentation.pipeline import assemble
from segmentation.plan import bandit
from segmentation.plan.bandit import Simulation
from segmentation.plan.lifetime import Lifetime, lifetime_of
from segmentation.prepare.features import FeatureMatrix, PrepConfig, prepare, variables_of
from segmentation.prepare.variables import Variable
from segmentation.validate import stability
from segmentation.validate.ablation import Ablation, ablate
from segmentation.validate.stability import Bootstrap, SplitHalf

_LOG = logging.getLogger(__name__)
_ENTRIES = 16
# A page shows up to a dozen charts and a user moves between a few K and variable choices:
# enough for every chart of several segmentations, few enough to bound the server's memory.
_FIGURES = 128
Reading = tuple[str, tuple[tuple[str, str], ...], str | None, str | None, str | None]
# Decide from the content, columns found by name, the id column detected, a workbook's
# first sheet holding a table.
AS_FOUND: Reading = ("auto", (), None, None, None)


def reading_of(config: RunConfig) -> Reading:
    return (config.input_kind, tuple(config.log_map), config.reference_date, config.id_column,
            config.sheet)


@dataclass(frozen=True)
class Lines:
    """The file as it was uploaded, before any order log is totalled."""

    sheet: str | None  # the sheet read, of an Excel workbook
    columns: tuple[str, ...]
    detected: dict[str, str]  # {order-log field: column} found by name
    log_reason: str | None  # why it reads as an order log, or None


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def lines(fingerprint: str, _data: bytes, name: str, sheet: str | None = None) -> Lines:
    raw = read_table(_data, name=name, sheet=sheet)
    detected = detect_mapping(raw.frame)
    return Lines(raw.sheet, tuple(str(c) for c in raw.frame.columns), detected,
                 looks_like_log(raw.frame, detected))


@st.cache_data(show_spinner=False, max_entries=4)
def sheets(fingerprint: str, _data: bytes, name: str) -> tuple[str, ...]:
    """The sheets of an Excel workbook, in order; empty for any other file."""
    return sheet_names(_data, name)


@st.cache_resource(show_spinner="Reading the file (an order log is totalled per customer)…",
               max_entries=4)
def raw_table(fingerprint: str, _data: bytes, name: str,
              reading: Reading = AS_FOUND) -> RawTable:
    # the id column is the dataset's business
    kind, log_map, reference_date, _, sheet = reading
    return read_customers(_data, kind, dict(log_map), reference_date, name=name, sheet=sheet)


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def dataset(fingerprint: str, _data: bytes, name: str,
            roles: tuple[tuple[str, str], ...], reading: Reading = AS_FOUND) -> Dataset:
    return load_dataset(raw_table(fingerprint, _data, name, reading), roles=dict(roles),
                        id_column=reading[3])


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def variables(fingerprint: str, _data: bytes, name: str,
              roles: tuple[tuple[str, str], ...],
              labels: tuple[tuple[str, str], ...] = (),
              reading: Reading = AS_FOUND) -> dict[str, Variable]:
    return variables_of(dataset(fingerprint, _data, name, roles, reading), dict(labels))


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def features(fingerprint: str, _data: bytes, name: str, roles: tuple[tuple[str, str], ...],
             prep: PrepConfig, reading: Reading = AS_FOUND) -> FeatureMatrix:
    return prepare(dataset(fingerprint, _data, name, roles, reading), prep)


@st.cache_resource(show_spinner="Trying every K…", max_entries=_ENTRIES)
def sweep_fits(fingerprint: str, _data: bytes, name: str, roles: tuple[tuple[str, str], ...],
               prep: PrepConfig, k_values: tuple[int, ...], random_state: int,
               n_init: int, reading: Reading = AS_FOUND) -> KSweep:
    """The sweep's own figures, before the split-half check: what the K panel draws first."""
    # Keyed on the K range, not the chosen K: moving K must not re-sweep.
    fm = features(fingerprint, _data, name, roles, prep, reading)
    return sweep_k(fm, k_values, random_state, n_init)


# The settings of the sweeps whose split-half check has run, newest last: a hint for the
# K panel, which draws the sweep's own figures first only when the check is still to come.
# Were a sweep evicted from the cache, the hint is wrong only in costing the check's time.
_CHECKED: OrderedDict[tuple, None] = OrderedDict()
_CHECKED_LOCK = threading.Lock()  # sessions run on threads of their own


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def sweep(fingerprint: str, _data: bytes, name: str, roles: tuple[tuple[str, str], ...],
          prep: PrepConfig, k_values: tuple[int, ...], random_state: int,
          n_init: int, stability: bool = True, reading: Reading = AS_FOUND) -> KSweep:
    """The sweep with its split-half check (when ``stability``): what the run uses."""
    swept = sweep_fits(fingerprint, _data, name, roles, prep, k_values, random_state, n_init,
                       reading)
    if stability:
        swept = add_stability(swept, features(fingerprint, _data, name, roles, prep, reading))
    key = (fingerprint, roles, prep, k_values, random_state, n_init, stability, reading)
    with _CHECKED_LOCK:
        _CHECKED[key] = None
        while len(_CHECKED) > 4 * _ENTRIES:
            _CHECKED.popitem(last=False)
    return swept


def sweep_made(fingerprint: str, roles: tuple[tuple[str, str], ...], prep: PrepConfig,
               k_values: tuple[int, ...], random_state: int, n_init: int,
               stability: bool = True, reading: Reading = AS_FOUND) -> bool:
    """Whether :func:`sweep` has been made with these settings (and likely still is cached)."""
    with _CHECKED_LOCK:
        return (fingerprint, roles, prep, k_values, random_state, n_init, stability,
                reading) in _CHECKED


@st.cache_resource(show_spinner="Segmenting…", max_entries=_ENTRIES)
def result(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> SegmentationResult:
    reading = reading_of(config)
    raw = raw_table(fingerprint, _data, name, reading)
    ds = dataset(fingerprint, _data, name, config.roles, reading)
    fm = features(fingerprint, _data, name, config.roles, config.prep, reading)
    sw = sweep(fingerprint, _data, name, config.roles, config.prep, tuple(config.k_values),
               config.random_state, config.n_init, config.stability, reading)
    return assemble(raw, ds, fm, sw, config)


@st.cache_resource(show_spinner="Fitting every method…", max_entries=_ENTRIES)
def methods(fingerprint: str, _data: bytes, name: str, config: RunConfig,
            k: int) -> MethodComparison:
    # ``config``'s own K and method do not reach the comparison: the caller clears them.
    fm = features(fingerprint, _data, name, config.roles, config.prep, reading_of(config))
    return compare_methods(fm, k, config.k_values, config.random_state, config.n_init)


@st.cache_resource(show_spinner="Fitting K = 2 to 6…", max_entries=_ENTRIES)
def splits(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> SplitTree:
    reading = reading_of(config)
    fm = features(fingerprint, _data, name, config.roles, config.prep, reading)
    # The sweep's fits at the same Ks are the tree's: reused, not fitted again. A strata run
    # has no sweep of all customers to lend them. The page has made the sweep already; were
    # it evicted, this makes it again, split-half check included.
    sw = None if config.strata is not None else sweep(
        fingerprint, _data, name, config.roles, config.prep, tuple(config.k_values),
        config.random_state, config.n_init, config.stability, reading)
    return split_tree(fm, random_state=config.random_state, n_init=config.n_init, sweep=sw)


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def rfm(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> pd.DataFrame | None:
    """Each customer's RFM scores and grid cell, or None when the file is not an order log."""
    return rfm_of(result(fingerprint, _data, name, config))


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def persona_rules(fingerprint: str, _data: bytes, name: str,
                  config: RunConfig) -> rules.PersonaRules:
    """Each persona's rules in the variables' own units (a tree per segment, a fraction of a
    second each)."""
    return rules.persona_rules(result(fingerprint, _data, name, config))


def lifetime(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> Lifetime | None:
    """Each customer's lifetime figures (BG/NBD and Gamma-Gamma), or None for a customer table.

    Cached on how the file is read and the seed only: moving K or the variables
    reuses the fit, which takes a few seconds (about a minute on a fresh machine).
    """
    return _lifetime(fingerprint, _data, name, reading_of(config), config.random_state,
                     config)


# No spinner of its own: the Personas page, where it is asked for, shows one.
@st.cache_data(show_spinner=False, max_entries=4)
def _lifetime(fingerprint: str, _data: bytes, name: str, reading: Reading, random_state: int,
              _config: RunConfig) -> Lifetime | None:
    # _config's K and variables do not reach the figures: the order history and seed do.
    return lifetime_of(result(fingerprint, _data, name, _config))


@st.cache_data(show_spinner="Clustering random halves of the customers…", max_entries=_ENTRIES)
def split_half(fingerprint: str, _data: bytes, name: str, config: RunConfig,
               k: int) -> SplitHalf:
    if config.strata is not None:  # halves clustered within each stratum, as the run was
        return strata_split_half(result(fingerprint, _data, name, config).strata,
                                 config.random_state, config.n_init)
    fm = features(fingerprint, _data, name, config.roles, config.prep, reading_of(config))
    return stability.split_half(fm, k, config.random_state, config.n_init)


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def drivers(fingerprint: str, _data: bytes, name: str,
            config: RunConfig) -> tuple[pd.DataFrame, SplitWarning | None]:
    """What drives the segments; cached, since a million customers take several seconds."""
    return run_drivers(result(fingerprint, _data, name, config))


@st.cache_data(show_spinner="Refitting without each clustering variable…", max_entries=_ENTRIES)
def ablation(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> Ablation:
    res = result(fingerprint, _data, name, config)
    return ablate(res.features, res.segmentation, res.strata, res.config.method)


@dataclass
class Slot:
    """One server-wide bootstrap, computed in the background by the first session asking."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    value: Bootstrap | None = None
    error: str | None = None  # the engine's sentence when it could not be computed
    done: int = 0  # resamples re-clustered so far, for the progress bar
    total: int = 0
    started: bool = False

    @property
    def finished(self) -> bool:
        return self.value is not None or self.error is not None


# A slot, not the result, is what Streamlit caches: a cached function replays what it drew,
# and the bootstrap reports its progress while the page goes on drawing. Evicting a slot
# frees its result, so memory stays bounded across sessions.
@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def _bootstrap_slot(fingerprint: str, config: RunConfig, n_boot: int) -> Slot:
    return Slot()


def _fill(slot: Slot, features: FeatureMatrix, segmentation, config: RunConfig,
          n_boot: int, strata: StrataFit | None = None) -> None:
    def progress(done: int, total: int) -> None:
        slot.done, slot.total = done, total

    try:
        slot.value = stability.bootstrap_stability(
            features, segmentation, n_boot, config.random_state, config.n_init,
            progress=progress) if strata is None else strata_bootstrap(
            strata, n_boot, config.random_state, config.n_init, progress=progress)
    except SegmentationError as exc:
        slot.error = str(exc)
    except Exception:
        # Said on the page rather than left as a progress bar that never ends.
        _LOG.exception("the bootstrap stopped")
        slot.error = ("The bootstrap stopped on an unexpected error; the server's log has "
                      "the details.")


# One bootstrap computes at a time per server, the others wait their turn in order: each
# setting a user tries asks for its own, and a thread each would share two cores between
# all of them and starve the server's replies.
_BOOTSTRAP_WORKERS = 1
_bootstraps = ThreadPoolExecutor(max_workers=_BOOTSTRAP_WORKERS, thread_name_prefix="bootstrap")


def stop_background_work() -> None:
    """Drop the bootstraps still waiting, wait for the one running, and forget every slot.

    For a server (or a test session) that must not leave work running behind it; the next
    request starts afresh.
    """
    global _bootstraps
    _bootstraps.shutdown(wait=True, cancel_futures=True)
    _bootstraps = ThreadPoolExecutor(max_workers=_BOOTSTRAP_WORKERS,
                                     thread_name_prefix="bootstrap")
    _bootstrap_slot.clear()


def start_bootstrap(fingerprint: str, config: RunConfig, n_boot: int,
                    res: SegmentationResult) -> Slot:
    """Hennig's bootstrap of one segmentation, started once per server in the background.

    ``config`` carries the K used, so a recommended K and the same K chosen by
    hand share one result. The page stays usable meanwhile: it reads the
    slot's progress and shows the result once ``slot.finished``.
    """
    slot = _bootstrap_slot(fingerprint, config, n_boot)
    with slot.lock:  # a second session asking meanwhile finds the one already running
        if not slot.started:
            slot.started, slot.total = True, n_boot
            _bootstraps.submit(_fill, slot, res.features, res.segmentation, config, n_boot,
                               res.strata)
    return slot


def known_bootstrap(fingerprint: str, config: RunConfig, n_boot: int) -> Bootstrap | None:
    """The bootstrap if the server holds it finished; never computes one."""
    return _bootstrap_slot(fingerprint, config, n_boot).value


@st.cache_data(show_spinner="Opening the saved segmentation…", max_entries=4)
def bundle(fingerprint: str, _data: bytes) -> Bundle:
    return load_bundle(_data)


@st.cache_data(show_spinner="Assigning the new customers…", max_entries=4)
def scores(bundle_fingerprint: str, _model: Model, fingerprint: str, _data: bytes,
           name: str) -> Scores:
    # The bundle's fingerprint stands for its model, as the file's does for its bytes.
    return score(raw_table(fingerprint, _data, name), _model)


@st.cache_data(show_spinner="Re-clustering the new customers…", max_entries=4)
def recluster(fingerprint: str, _data: bytes, name: str, config: RunConfig) -> SegmentationResult:
    """A whole run with a saved bundle's settings (its id column included), as the CLI does."""
    return run(raw_table(fingerprint, _data, name), config)


@st.cache_data(show_spinner="Training the sign-up model…", max_entries=_ENTRIES)
def signup_model(fingerprint: str, _data: bytes, name: str, config: RunConfig,
                 features: tuple[str, ...]):
    from segmentation.plan import signup

    res = result(fingerprint, _data, name, config)
    return signup.train(res, list(features), random_state=config.random_state)


# A resource, not data: a hit hands every session the one figure instead of unpickling a copy,
# and building a plotly figure (validating every property) costs more than the numbers behind
# it. Keyed on a small key rather than the frames drawn: hashing a frame of every customer on
# each rerun would cost what the cache saves. Nothing draws on a figure after it is built, so
# sharing it is safe.
@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def bandit_simulation(rates: tuple[tuple[str, float], ...], n_visitors: int,
                      random_state: int) -> Simulation:
    """The bandit simulation for these stated rates, computed once per server."""
    return bandit.simulate(dict(rates), n_visitors=n_visitors, random_state=random_state)


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def figure(key: tuple, _build: Callable[[], go.Figure]) -> go.Figure:
    """The figure ``_build()`` makes, built once per server for the same ``key``.

    ``key`` must name everything the figure shows: the chart, the segmentation
    (``state.run_key``), the persona names and every choice made for it.
    """
    return _build()
