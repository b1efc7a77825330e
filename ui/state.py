"""The one owner of ``st.session_state`` keys.

Everything that must survive a page switch or a rerun lives under a
non-widget key here ("data.bytes", "vars.features", "personas.edits" ...).
Widgets get their own keys ("w.*"), seeded from these before they are drawn
and copied back in ``on_change`` callbacks, because Streamlit drops a
widget's state when its page is not shown.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import streamlit as st

from segmentation import RunConfig
from segmentation.config import HISTORY_FILE
from segmentation.config import SHARE_ALERT as SHARE_ALERT_DEFAULT
from segmentation.data.customer_file import fingerprint
from segmentation.prepare.features import PrepConfig

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "marketing_campaign_sample.csv"

DATA_BYTES = "data.bytes"
DATA_NAME = "data.name"
DATA_FINGERPRINT = "data.fingerprint"
DATA_SOURCE = "data.source"  # "sample" or "upload"
DATA_ERROR = "data.error"
ROLES = "data.roles"  # {column: role} overrides of the detected roles
LABELS = "data.labels"  # {column: display name} the user gave
INPUT_KIND = "data.input_kind"  # "auto", "customers" or "transactions" (order lines)
LOG_MAP = "data.log_map"  # {order-log field: column} the user chose over the detected one
REFERENCE_DATE = "data.reference_date"  # ISO date an order log's recency counts to, or None
ID_COLUMN = "data.id_column"  # the customer id column a saved run named, or None: detected
SHEET = "data.sheet"  # the workbook sheet chosen, or None for the first holding a table
FEATURES = "vars.features"  # tuple of names, or None for the default set
SCALING = "vars.scaling"
OUTLIERS = "vars.outliers"
MISSING = "vars.missing"
WEIGHTS = "vars.weights"  # {feature: weight}
COMPOSITES = "vars.composites"  # tuple of (a, b)
K_CHOICE = "k.choice"  # int, or None for the recommended K
SEED = "k.seed"
# Settings the app has no widget for but a saved run may record (the command line's --n-init,
# --k-min/--k-max): restored with a bundle so the same segments come back exactly.
N_INIT = "k.n_init"
K_RANGE = "k.range"  # (k_min, k_max) of the sweep
STABILITY = "k.stability"
METHOD = "k.method"  # the clustering method: "kmeans" (default), "gmm", "ward", ...
# Segments within strata: "<column>:<bands>", "<column>:<cut>,<cut>" or "<column>", or None.
# A plain key, not namespaced: other pages set it (e.g. to "Income:3") as a contract.
STRATA = "strata"
PERSONA_RECORDS = "personas.records"  # tuple of PersonaRecord: edits tied to segment profiles
BOOTSTRAPS = "validate.bootstraps"  # {run key: latest resample count}; results live in the server cache
BUNDLE_NOTE = "bundle.note"  # (kind, message) after opening a bundle: "success"/"info"/"error"
# Compare runs: (fingerprint, bytes, name) of each uploaded file, or None before an upload.
COMPARE_BUNDLE = "compare.bundle"  # the saved segmentation (bundle.json)
COMPARE_EXPORT = "compare.export"  # next quarter's customer file
PLAN_RESULTS = "plan.results"  # an A/B campaign's results file
PLAN_NEWCOMERS = "plan.newcomers"  # new customers to give a segment from sign-up data
PLAN_OVERRIDES = "plan.overrides"  # {segment: {assumption: value}} edited on the Plan page
# Whether the sign-up model was asked for: it cross-validates two models on every customer
# (most of the Plan page's first visit), so it is fitted only once asked, then kept up to date.
PLAN_SIGNUP = "plan.signup.asked"
# {lifetime key: None once estimated, or the engine's sentence why it could not be}. Fitting
# takes seconds to a minute, so it runs only when asked on the Personas page; the other pages
# show the figures once they were asked for the same order history.
LIFETIME = "lifetime.asked"
# The run history the studio saves into and the History page reads: a file in the folder the
# studio was started from (the app has no output folder), changed on the Export page.
HISTORY_PATH = "history.path"
HISTORY_ON = "history.on"  # False only when the user turned recording off
SHARE_ALERT = "history.share_alert"  # a persona's share move that raises an alert
ABLATIONS = "vars.ablations"  # run keys whose variable ablation was asked for
# {widget key: value} of inputs drawn in a tab that computes only when open (Plan's): kept
# here while the tab is closed, since a widget not drawn in a run loses its value.
KEPT_INPUTS = "inputs.kept"

# Every engine default comes from RunConfig (itself from segmentation.config): the app, the
# command line and a bundle start from the same settings.
_RUN_DEFAULTS = RunConfig()
_DEFAULTS = {
    ROLES: {},
    LABELS: {},
    INPUT_KIND: _RUN_DEFAULTS.input_kind,
    LOG_MAP: {},
    REFERENCE_DATE: _RUN_DEFAULTS.reference_date,
    SHEET: _RUN_DEFAULTS.sheet,
    FEATURES: _RUN_DEFAULTS.prep.features,
    SCALING: _RUN_DEFAULTS.prep.scaling,
    OUTLIERS: _RUN_DEFAULTS.prep.outliers,
    MISSING: _RUN_DEFAULTS.prep.missing,
    WEIGHTS: {},
    COMPOSITES: (),
    K_CHOICE: _RUN_DEFAULTS.k,
    SEED: _RUN_DEFAULTS.random_state,
    N_INIT: _RUN_DEFAULTS.n_init,
    K_RANGE: (_RUN_DEFAULTS.k_min, _RUN_DEFAULTS.k_max),
    STABILITY: _RUN_DEFAULTS.stability,
    METHOD: _RUN_DEFAULTS.method,
    STRATA: _RUN_DEFAULTS.strata,
    ID_COLUMN: _RUN_DEFAULTS.id_column,
    PERSONA_RECORDS: (),
    BOOTSTRAPS: {},
    BUNDLE_NOTE: None,
    DATA_ERROR: None,
    COMPARE_BUNDLE: None,
    COMPARE_EXPORT: None,
    PLAN_RESULTS: None,
    PLAN_NEWCOMERS: None,
    PLAN_OVERRIDES: {},
    PLAN_SIGNUP: False,
    LIFETIME: {},
    HISTORY_PATH: str(Path.cwd() / HISTORY_FILE),
    HISTORY_ON: True,
    SHARE_ALERT: SHARE_ALERT_DEFAULT,
    ABLATIONS: (),
    KEPT_INPUTS: {},
}
_CHOICES = (ROLES, LABELS, FEATURES, WEIGHTS, COMPOSITES, K_CHOICE, STRATA)
_READING = (INPUT_KIND, LOG_MAP, REFERENCE_DATE, ID_COLUMN, SHEET)


def init() -> None:
    """Fill in defaults, and the bundled sample as the data when none was loaded."""
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            # A copy per session: Streamlit serves every session from one process,
            # so a shared default dict would carry one user's edits to all.
            st.session_state[key] = copy.deepcopy(value)
    if DATA_BYTES not in st.session_state:
        use_sample()


def _set_data(data: bytes, name: str, source: str) -> None:
    fp = fingerprint(data)
    if st.session_state.get(DATA_FINGERPRINT) != fp:
        reset_choices(_CHOICES + _READING)  # choices about the old file's columns no longer apply
    st.session_state[DATA_BYTES] = data
    st.session_state[DATA_NAME] = name
    st.session_state[DATA_FINGERPRINT] = fp
    st.session_state[DATA_SOURCE] = source
    st.session_state[DATA_ERROR] = None


def reset_choices(keys=_CHOICES) -> None:
    for key in keys:
        st.session_state[key] = copy.deepcopy(_DEFAULTS[key])


def reset_variables() -> None:
    """Back to the standard variable set: no composites, no weights."""
    reset_choices((FEATURES, COMPOSITES, WEIGHTS))


def set_roles(overrides: dict[str, str]) -> None:
    """New roles change the variable list, so variable choices start again."""
    st.session_state[ROLES] = dict(overrides)
    reset_variables()


def set_labels(labels: dict[str, str]) -> None:
    """Display names of columns; blank names go back to the automatic ones."""
    st.session_state[LABELS] = {c: str(v).strip() for c, v in labels.items()
                                if v is not None and str(v).strip()}


def set_input_kind(kind: str) -> None:
    """Read the file as customers, as order lines, or decide from its content.

    The customer table's columns change with it, so column choices start again.
    """
    if kind != st.session_state[INPUT_KIND]:
        st.session_state[INPUT_KIND] = kind
        reset_choices()


def set_log_field(field: str, column: str | None) -> None:
    """Which column holds an order-log field; None goes back to the one found by name.

    The aggregated columns can change (a category column gives the spend shares), so
    column choices start again.
    """
    mapping = dict(st.session_state[LOG_MAP])
    if column:
        mapping[field] = column
    else:
        mapping.pop(field, None)
    if mapping != st.session_state[LOG_MAP]:
        st.session_state[LOG_MAP] = mapping
        reset_choices()


def set_reference_date(day) -> None:
    """The day an order log's recency is counted to (a date or None for the default)."""
    st.session_state[REFERENCE_DATE] = day.isoformat() if day is not None else None


def reading(s=None) -> tuple[str, tuple[tuple[str, str], ...], str | None, str | None,
                             str | None]:
    """How the file is read into customers: (input kind, log mapping, reference date,
    id column, sheet), hashable. ``s``: the session's state, or a mapping standing in."""
    s = st.session_state if s is None else s
    return (s[INPUT_KIND], tuple(sorted(s[LOG_MAP].items())), s[REFERENCE_DATE],
            s[ID_COLUMN], s[SHEET])


def set_sheet(sheet: str | None) -> None:
    """Read another sheet of the workbook: its columns are others, so column choices start
    again."""
    if sheet != st.session_state[SHEET]:
        reset_choices()
        st.session_state[SHEET] = sheet


def set_features(picked) -> None:
    """The chosen variables; composites and weights on variables no longer chosen go."""
    picked = tuple(picked)
    s = st.session_state
    s[FEATURES] = picked
    s[COMPOSITES] = tuple((a, b) for a, b in s[COMPOSITES] if a in picked and b in picked)
    s[WEIGHTS] = {f: w for f, w in s[WEIGHTS].items() if f in picked}


def use_sample() -> None:
    _set_data(SAMPLE_PATH.read_bytes(), SAMPLE_PATH.name, "sample")


def new_session_run() -> tuple[str, bytes, str, RunConfig]:
    """(fingerprint, bytes, name, run settings) of what a new session opens with: the
    bundled sample and the default choices. Needs no session."""
    data = SAMPLE_PATH.read_bytes()
    return fingerprint(data), data, SAMPLE_PATH.name, run_config(s=copy.deepcopy(_DEFAULTS))


def use_upload(data: bytes, name: str) -> None:
    _set_data(data, name, "upload")


def data() -> tuple[str, bytes, str]:
    """(fingerprint, bytes, name) of the current data."""
    s = st.session_state
    return s[DATA_FINGERPRINT], s[DATA_BYTES], s[DATA_NAME]


def roles_key(s=None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((st.session_state if s is None else s)[ROLES].items()))


def prep_config(s=None) -> PrepConfig:
    s = st.session_state if s is None else s
    features = s[FEATURES]
    return PrepConfig(
        features=tuple(features) if features is not None else None,
        missing=s[MISSING],
        outliers=s[OUTLIERS],
        scaling=s[SCALING],
        weights=tuple(sorted((f, float(w)) for f, w in s[WEIGHTS].items()
                             if float(w) != 1.0 and (features is None or f in features))),
        composites=tuple(s[COMPOSITES]),
        labels=tuple(sorted(s[LABELS].items())),
    )


def run_config(k: int | None = None, s=None) -> RunConfig:
    """The run the session's choices make (``s``: a mapping standing in for its state)."""
    s = st.session_state if s is None else s
    kind, log_map, reference_date, id_column, sheet = reading(s)
    k_min, k_max = s[K_RANGE]
    return RunConfig(prep=prep_config(s), k=k if k is not None else s[K_CHOICE],
                     k_min=k_min, k_max=k_max, random_state=int(s[SEED]),
                     n_init=int(s[N_INIT]), id_column=id_column, roles=roles_key(s),
                     stability=bool(s[STABILITY]), input_kind=kind, log_map=log_map,
                     reference_date=reference_date, sheet=sheet, method=s[METHOD],
                     strata=s.get(STRATA))


def run_key(config: RunConfig, k: int) -> str:
    """Identifies one segmentation: the data, every setting that shapes it, and its K."""
    return f"{st.session_state[DATA_FINGERPRINT]}|{replace(config, k=k)!r}"


def lifetime_key(config: RunConfig) -> str:
    """Identifies one lifetime fit: the order history (data and how it is read) and the seed.

    Not K, variables or roles: they change the segments, not the customers' figures.
    """
    return (f"{st.session_state[DATA_FINGERPRINT]}|{config.input_kind}|{config.log_map!r}|"
            f"{config.reference_date}|{config.random_state}")


def remember_lifetime(config: RunConfig, error: str | None = None) -> None:
    """Lifetime was asked for this order history; ``error`` is why it could not be fitted."""
    st.session_state[LIFETIME][lifetime_key(config)] = error


def lifetime_asked(config: RunConfig) -> bool:
    return lifetime_key(config) in st.session_state[LIFETIME]


def lifetime_error(config: RunConfig) -> str | None:
    return st.session_state[LIFETIME].get(lifetime_key(config))


def lifetime_estimated(config: RunConfig) -> bool:
    """Asked for this order history and fitted without an error."""
    return lifetime_asked(config) and lifetime_error(config) is None


def persona_records() -> tuple:
    return st.session_state[PERSONA_RECORDS]


def set_persona_records(records) -> None:
    st.session_state[PERSONA_RECORDS] = tuple(records)


def bind(widget_key: str, state_key: str) -> dict:
    """Keyword arguments tying a widget to a persistent key.

    The widget is seeded from the persistent value when it is (re)created,
    and every change is copied back, so the choice outlives the page.
    """
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state[state_key]

    def copy_back():
        st.session_state[state_key] = st.session_state[widget_key]

    return {"key": widget_key, "on_change": copy_back}


def kept_input(widget_key: str, default, options=None) -> dict:
    """Keyword arguments for a widget whose value outlives its closed tab: seeded from the
    kept value (else ``default``) when it is drawn again, and kept on every change. The
    widget must be given no value of its own (``value``, ``index``, ``default``). With
    ``options``, a kept value that is no longer among them gives way to ``default``."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = input_value(widget_key, default, options)

    def keep():
        st.session_state[KEPT_INPUTS][widget_key] = st.session_state[widget_key]

    return {"key": widget_key, "on_change": keep}


def input_value(widget_key: str, default, options=None):
    """A :func:`kept_input` widget's value, whether or not it is drawn in this run."""
    if widget_key in st.session_state:
        value = st.session_state[widget_key]
    else:
        value = st.session_state[KEPT_INPUTS].get(widget_key, default)
    if options is not None and not _among(value, options):
        return default
    return value


def _among(value, options) -> bool:
    if isinstance(value, list | tuple):  # a multiselect's choice
        return all(v in options for v in value)
    return value is None or value in options


def editor_key(name: str) -> str:
    """A data editor's widget key, renewed after every applied edit.

    A fresh key after each edit means the editor always starts from the
    stored values with no edit state of its own, so an edit can never be
    replayed over newer data or reverted.
    """
    return f"w.{name}.{st.session_state.setdefault(f'{name}.version', 0)}"


def has_edits(name: str) -> bool:
    """Whether the editor holds edits not yet applied (set without its callback)."""
    return bool((st.session_state.get(editor_key(name)) or {}).get("edited_rows"))


def pop_edits(name: str) -> dict[int, dict]:
    """The edited rows (by position) pending in the editor, once; {} when there are none."""
    pending = st.session_state.get(editor_key(name)) or {}
    edited = dict(pending.get("edited_rows") or {})
    if edited:
        st.session_state[f"{name}.version"] += 1
    return {int(row): change for row, change in edited.items()}


def apply_bundle(bundle) -> None:
    """Take a saved segmentation's settings and persona records as the current choices.

    With the data it was made on, the same segments and names come back
    exactly; with other data, the names go to the segments whose profiles
    match.
    """
    s = st.session_state
    config = bundle.config
    prep = config.prep
    s[ROLES] = dict(config.roles)
    s[INPUT_KIND], s[LOG_MAP] = config.input_kind, dict(config.log_map)
    s[REFERENCE_DATE], s[ID_COLUMN] = config.reference_date, config.id_column
    s[SHEET] = config.sheet
    s[LABELS] = dict(prep.labels)
    s[FEATURES] = tuple(prep.features) if prep.features is not None else None
    s[SCALING], s[OUTLIERS], s[MISSING] = prep.scaling, prep.outliers, prep.missing
    s[WEIGHTS] = dict(prep.weights)
    s[COMPOSITES] = tuple(prep.composites)
    s[K_CHOICE] = config.k
    s[K_RANGE] = (config.k_min, config.k_max)
    s[SEED], s[N_INIT], s[STABILITY] = config.random_state, config.n_init, config.stability
    s[METHOD] = config.method
    s[STRATA] = config.strata
    s[PERSONA_RECORDS] = tuple(bundle.records)
    for key in [k for k in s if str(k).startswith("w.") and k != "w.bundle"]:
        del s[key]  # widgets reseed from the restored choices


def keep_upload(key: str, data: bytes, name: str) -> None:
    """Keep a file uploaded on a page (``COMPARE_BUNDLE``, ``COMPARE_EXPORT``, ``PLAN_RESULTS``)."""
    st.session_state[key] = (fingerprint(data), data, name)


def kept_upload(key: str) -> tuple[str, bytes, str] | None:
    """(fingerprint, bytes, name) of a file kept by :func:`keep_upload`, or None."""
    return st.session_state[key]
