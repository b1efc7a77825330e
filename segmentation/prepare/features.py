"""Feature preparation: missing values, outliers, derived variables, scaling.

:func:`prepare` fits every parameter (imputation values, outlier bounds,
scaler) on a dataset and returns a :class:`FeatureMatrix` holding them as a
:class:`Preparation`; :func:`transform` replays a saved preparation on new
customers without refitting, so they land in the same space as the model.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from segmentation.config import (
    AGE_RANGE,
    CORRELATION_THRESHOLD,
    DATE_FENCE_SPANS,
    DEFAULT_MISSING,
    DEFAULT_OUTLIERS,
    DEFAULT_SCALING,
    FAR_FENCE,
    FLAG_SCALE,
    INCOME_MARGIN,
    LEVEL_SCALE,
    MAX_LEVELS,
    MIN_LEVEL_SHARE,
    SKEW_SUGGESTS_LOG,
)
from segmentation.data.dataset import Dataset
from segmentation.data.roles import Role
from segmentation.errors import SegmentationError
from segmentation.prepare.policies import MISSING_POLICIES, OUTLIER_POLICIES, SCALINGS
from segmentation.prepare.variables import (
    BINARY_KINDS,
    CATEGORY_KINDS,
    LOGGABLE_KINDS,
    OTHER_LEVEL,
    Variable,
    _left_out,
    _levels_of,
    _tenure_end_of,
    age_from,
    catalogue,
    default_features,
    derive,
    with_levels,
)

SCALING_LABELS = {
    "zscore": "z-score (mean 0, sd 1)",
    "robust": "robust (median 0, IQR 1)",
    "log": "log for amounts, counts and durations, then z-score",
}
REASON_MISSING = "missing value in a clustering variable (drop policy)"
REASON_OUTLIER = "implausible value (exclude policy)"


@dataclass(frozen=True)
class PrepConfig:
    """What the user chose. Every field has a sensible default.

    Parameters
    ----------
    features : tuple of str, optional
        Clustering variables by name (see :func:`segmentation.prepare.variables.catalogue`);
        None for the default set.
    missing : {"impute", "drop"}
        Median (numbers) / mode (categories) imputation, or drop the rows with
        a missing clustering variable.
    outliers : {"clip", "keep", "exclude"}
        What to do with implausible values: winsorize them to the nearest
        plausible value, keep them, or drop those customers.
    scaling : {"zscore", "robust", "log"}
    weights : tuple of (name, weight)
        A weight of 2 counts a variable's squared differences twice.
    composites : tuple of (name, name)
        Pairs replaced by one combined variable (strongly correlated pairs are
        suggested in ``PrepReport.correlated``).
    reference_year : int, optional
        The year ages and tenure are measured at; default the latest signup year.
    """

    features: tuple[str, ...] | None = None
    missing: str = DEFAULT_MISSING
    outliers: str = DEFAULT_OUTLIERS
    scaling: str = DEFAULT_SCALING
    weights: tuple[tuple[str, float], ...] = ()
    composites: tuple[tuple[str, str], ...] = ()
    reference_year: int | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        for value, allowed, what in (
            (self.missing, MISSING_POLICIES, "missing-value policy"),
            (self.outliers, OUTLIER_POLICIES, "outlier policy"),
            (self.scaling, SCALINGS, "scaling"),
        ):
            if value not in allowed:
                raise SegmentationError(
                    f"{value!r} is not a {what}: use one of {', '.join(allowed)}."
                )
        for name, weight in self.weights:
            if not np.isfinite(weight) or weight <= 0:
                raise SegmentationError(
                    f"The weight of {name!r} is {weight!r}: use a positive number."
                )


@dataclass(frozen=True)
class OutlierRule:
    """Values outside [low, high] are implausible; clipping moves them to [clip_low, clip_high]."""

    variable: str
    low: float
    high: float
    clip_low: float
    clip_high: float
    why: str


@dataclass(frozen=True)
class CompositeSuggestion:
    """Two chosen variables that move together, and the composite that would replace them."""

    a: str
    b: str
    r: float
    name: str
    label: str

    @property
    def message(self) -> str:
        return (
            f"{self.a} and {self.b} are strongly correlated (r = {self.r:.2f}): together they "
            f"count twice in the distances. Consider combining them into '{self.label}'."
        )


@dataclass(frozen=True)
class Preparation:
    """Every fitted parameter needed to put new customers into the model's space."""

    roles: dict[str, str]
    id_column: str | None
    features: tuple[str, ...]
    scaling: str
    missing: str
    outliers: str
    reference_year: int
    tenure_end: str | None
    impute_values: dict[str, object]
    outlier_rules: tuple[OutlierRule, ...]
    composites: tuple[tuple[str, str], ...]
    composite_stats: dict[str, tuple[float, float, float, float]]
    log_features: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sentinels: dict[str, float] = field(default_factory=dict)
    date_ends: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def variables(self) -> dict[str, Variable]:
        """Every variable of the fitted preparation, category levels included."""
        return with_levels(catalogue(self.roles, self.labels), self.levels)

    def to_dict(self) -> dict:
        out = asdict(self)
        # JSON has no infinity: an open bound is written as null.
        out["outlier_rules"] = [
            {k: (None if isinstance(v, float) and np.isinf(v) else v) for k, v in asdict(r).items()}
            for r in self.outlier_rules
        ]
        out["composites"] = [list(p) for p in self.composites]
        out["levels"] = {k: list(v) for k, v in self.levels.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Preparation:
        data = dict(data)
        data.setdefault("tenure_end", None)
        data["outlier_rules"] = tuple(
            OutlierRule(**{k: (np.inf if v is None and k == "high" else v) for k, v in r.items()})
            for r in data["outlier_rules"]
        )
        data["composites"] = tuple(tuple(p) for p in data["composites"])
        data["composite_stats"] = {k: tuple(v) for k, v in data["composite_stats"].items()}
        for key in ("features", "log_features", "center", "scale", "weights"):
            data[key] = tuple(data[key])
        data["levels"] = {str(k): tuple(map(str, v)) for k, v in data.get("levels", {}).items()}
        data["sentinels"] = {str(k): float(v) for k, v in data.get("sentinels", {}).items()}
        data["date_ends"] = {str(k): str(v) for k, v in data.get("date_ends", {}).items()}
        data["labels"] = {str(k): str(v) for k, v in data.get("labels", {}).items()}
        return cls(**data)


@dataclass(frozen=True)
class PrepReport:
    """What preparation did to the data, for the user to read."""

    rows_read: int
    dropped: dict[str, int]
    missing: dict[str, int]
    imputed: dict[str, int]
    outliers: dict[str, int]
    outlier_policy: str
    zero_variance: tuple[str, ...]
    correlated: tuple[CompositeSuggestion, ...]
    warnings: tuple[str, ...]
    excluded_ids: dict[str, str] = field(default_factory=dict)
    suggestions: tuple[str, ...] = ()
    skewed: tuple[str, ...] = ()
    left_out: dict[str, str] = field(default_factory=dict)  # default-set exclusions, why

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())


@dataclass(frozen=True)
class FeatureMatrix:
    """Scaled clustering matrix plus the cleaned values of every variable.

    Attributes
    ----------
    X : ndarray of shape (n_customers, n_features)
        Scaled (and weighted) clustering variables.
    features : tuple of str
        The columns of ``X``.
    frame : DataFrame
        Cleaned values of every catalogued variable, in natural units,
        indexed by customer id (the rows of ``X``).
    variables : dict
        ``{name: Variable}`` for every column of ``frame``.
    """

    X: np.ndarray
    features: tuple[str, ...]
    frame: pd.DataFrame
    variables: dict[str, Variable]
    preparation: Preparation
    report: PrepReport

    @property
    def customer_ids(self) -> pd.Index:
        return self.frame.index

    @property
    def n_customers(self) -> int:
        return self.X.shape[0]


def variables_of(dataset: Dataset, labels: dict[str, str] | None = None,
                 ) -> dict[str, Variable]:
    """The variables available for this dataset (clustering candidates and profile-only)."""
    return catalogue(dataset.roles, labels)


def prepare(dataset: Dataset, config: PrepConfig | None = None) -> FeatureMatrix:
    """Clean, derive and scale: fit a preparation on ``dataset`` and apply it.

    Order matters and is fixed: impute (or drop) missing values, compute age,
    flag implausible values, derive totals and shares from the cleaned
    columns, build composites, then scale the chosen features. Zero-variance
    features are dropped with a warning.

    Parameters
    ----------
    dataset : Dataset
    config : PrepConfig, optional

    Returns
    -------
    FeatureMatrix

    Raises
    ------
    SegmentationError
        Unknown feature names, a feature with a never-clustered role, or no
        variance left after preparation.
    """
    config = config or PrepConfig()
    log = dataset.log
    unknown = [c for c, _ in config.labels if c not in dataset.roles]
    if unknown:
        raise SegmentationError(
            f"A label is given for {', '.join(map(repr, unknown))}, which is not a column of "
            "the file: label only its own columns."
        )
    labels = {**(log.labels if log is not None else {}), **dict(config.labels)}
    variables = catalogue(dataset.roles, labels)
    base, missing = _used_columns(dataset, variables)
    date_rules = _fit_date_rules(base)
    reference_year = config.reference_year or _reference_year(dataset, date_rules)
    if config.features is None and log is not None:
        # An order log starts from recency, frequency, monetary value and the mixes.
        features = tuple(f for f in log.default_features if f in variables)
    else:
        features = _resolve_features(config, variables, base)
    logged = log.log_features if log is not None and config.features is None else ()
    done = _run_steps(
        base, variables, features, missing=config.missing, outliers=config.outliers,
        composites=config.composites, reference_year=reference_year,
        sentinels=dataset.sentinels, dropped=dataset.dropped,
        fit=_FitChoices(date_rules, config.scaling, logged))
    features, frame, variables, X_raw = done.features, done.frame, done.variables, done.X_raw

    spread = X_raw.std(axis=0) if len(X_raw) else np.zeros(len(features))
    flat = tuple(f for f, s in zip(features, spread, strict=True) if not s > 1e-12)
    warnings = list(done.warnings)
    if flat:
        warnings.append(
            f"Dropped {', '.join(flat)}: the same value for every customer kept, "
            "so they cannot tell segments apart."
        )
    if len(flat) == len(features):
        raise SegmentationError(
            "No variance left after preparation: every customer has the same values for the "
            "chosen variables; choose other variables or check the file."
        )
    keep = [i for i, f in enumerate(features) if f not in flat]
    features = tuple(features[i] for i in keep)
    X_raw = X_raw[:, keep]
    center, scale = _fit_scaler(X_raw, config.scaling)
    center, scale = _fixed_scales(features, variables, center, scale)
    weight_map = _weights_by_feature(dict(config.weights), variables, features)
    # Weights on variables folded into a composite or dropped as flat are moot,
    # not mistakes; a name that was never chosen is.
    unknown = set(dict(config.weights)) - set(done.requested) - set(features)
    if unknown:
        raise SegmentationError(
            f"Weights were given for {', '.join(sorted(unknown))}, which are not clustering "
            "variables: weight only the chosen variables."
        )
    weights = tuple(float(weight_map.get(f, 1.0)) for f in features)
    skewed, suggestions = _skew_suggestions(frame, features, variables, config.scaling)
    prep = Preparation(
        roles=dict(dataset.roles),
        id_column=dataset.id_column,
        features=features,
        scaling=config.scaling,
        missing=config.missing,
        outliers=config.outliers,
        reference_year=int(reference_year),
        composites=tuple(tuple(p) for p in config.composites),
        center=tuple(map(float, center)),
        scale=tuple(map(float, scale)),
        weights=weights,
        sentinels=dict(dataset.sentinels),
        labels=labels,
        **done.fitted,
    )
    report = done.report(dataset, missing, config.outliers, zero_variance=flat,
                         warnings=tuple(warnings), suggestions=suggestions, skewed=skewed,
                         left_out=_left_out(variables, frame) if config.features is None else {})
    return FeatureMatrix(X=_scale(X_raw, prep), features=features, frame=frame,
                         variables=variables, preparation=prep, report=report)


def transform(dataset: Dataset, prep: Preparation) -> FeatureMatrix:
    """Apply a saved preparation to new customers, refitting nothing.

    Missing values are filled with the saved values (the drop policy still
    drops), implausible values are handled with the saved bounds, and the
    saved scaler is used, so the new rows are comparable with the model's.
    """
    variables = variables_present(prep, set(dataset.frame.columns))
    base, missing = _used_columns(dataset, variables)
    done = _run_steps(
        base, variables, prep.features, missing=prep.missing, outliers=prep.outliers,
        composites=prep.composites, reference_year=prep.reference_year,
        sentinels=prep.sentinels, dropped=dataset.dropped, saved=prep)
    report = done.report(dataset, missing, prep.outliers, warnings=done.warnings)
    return FeatureMatrix(X=_scale(done.X_raw, prep), features=done.features, frame=done.frame,
                         variables=done.variables, preparation=prep, report=report)


def variables_present(prep: Preparation, present: set[str]) -> dict[str, Variable]:
    """The saved preparation's variables that a new file's columns ``present`` can build.

    Raises
    ------
    SegmentationError
        When a clustering variable's columns are missing.
    """
    everything = prep.variables()
    missing_vars = [f for f in prep.features
                    if not all(s in present for s in _sources(f, everything, prep.composites))]
    if missing_vars:
        raise SegmentationError(
            f"The new file lacks the columns behind {', '.join(missing_vars)}: "
            "export it with the same columns as the file the model was built on."
        )
    # Columns the model does not cluster on may be missing from a new export;
    # the variables built from them are simply not profiled.
    return {n: v for n, v in everything.items() if all(s in present for s in v.sources)}


@dataclass(frozen=True)
class _FitChoices:
    """What fitting needs beyond the policies: date bounds (fitted before any row is dropped,
    since the reference year rests on them), the scaling, and the variables an order log has
    log-scaled whatever the scaling."""

    date_rules: tuple[OutlierRule, ...]
    scaling: str
    logged: tuple[str, ...]


@dataclass(frozen=True)
class _Steps:
    """One pass of the preparation steps, in fit or apply mode.

    ``fitted`` holds the parameters used, as :class:`Preparation` fields: fitted on this
    data, or the saved ones replayed. ``requested`` are the variables as chosen, before
    composites and category levels replace them.
    """

    frame: pd.DataFrame
    variables: dict[str, Variable]
    requested: tuple[str, ...]
    features: tuple[str, ...]
    X_raw: np.ndarray
    dropped: dict[str, int]
    excluded_ids: dict[str, str]
    imputed: dict[str, int]
    outliers: dict[str, int]
    correlated: tuple[CompositeSuggestion, ...]
    warnings: tuple[str, ...]
    fitted: dict[str, object]

    def report(self, dataset: Dataset, missing: dict[str, int], outlier_policy: str,
               zero_variance: tuple[str, ...] = (), **extra) -> PrepReport:
        """What the steps did, with what only fitting knows (``extra``) added by the caller."""
        return PrepReport(
            rows_read=dataset.rows_read, dropped=self.dropped, missing=missing,
            imputed=self.imputed, outliers=self.outliers, outlier_policy=outlier_policy,
            zero_variance=zero_variance, correlated=self.correlated,
            excluded_ids=self.excluded_ids, **extra)


def _run_steps(base: pd.DataFrame, variables: dict[str, Variable], features: tuple[str, ...],
               *, missing: str, outliers: str, composites, reference_year: int,
               sentinels: dict[str, float], dropped: dict[str, int],
               saved: Preparation | None = None, fit: _FitChoices | None = None) -> _Steps:
    """Every preparation step in its fixed order, shared by :func:`prepare` and :func:`transform`.

    Exactly one of ``saved`` (apply mode: replay its parameters) and ``fit`` (fit mode: fit
    each parameter on the rows as they reach that step) is given. ``features`` are the
    variables as chosen in fit mode, the saved clustering columns in apply mode.
    """
    requested = features
    excluded: dict[str, str] = {}
    dropped = dict(dropped)
    if missing == "drop":
        sources = {s for f in features for s in _sources(f, variables, composites)}
        bad = base[[c for c in base.columns if c in sources]].isna().any(axis=1)
        base, dropped, excluded = _drop(base, bad, REASON_MISSING, dropped, excluded)
    base, impute_values, imputed = _imputation(base, saved.impute_values if saved else None)
    if "age" in variables:
        base = base.assign(age=age_from(base, variables, reference_year))
    rules, warnings = _outlier_rules(base, variables, saved, fit)
    base, outlier_counts, flagged = _apply_outliers(base, rules, outliers)
    base, dropped, excluded = _drop(base, flagged, REASON_OUTLIER, dropped, excluded)
    variables, levels, unseen = _levels(base, variables, saved)
    tenure_end, date_ends = _date_anchors(base, variables, reference_year, saved)
    frame = derive(base, variables, tenure_end, sentinels, date_ends)
    variables = {n: v for n, v in variables.items() if n in frame.columns}
    if saved is None:
        _check_derived(features, variables)
    frame, variables, stats = _add_composites(frame, variables, composites,
                                              saved.composite_stats if saved else None)
    features, impute_values, log_features, correlated = _clustering_columns(
        frame, variables, features, composites, impute_values, saved, fit)
    X_raw = _fill_gaps(frame[list(features)], impute_values).to_numpy(dtype=float)
    X_raw = _log_columns(X_raw, features, log_features)
    fitted = {"impute_values": impute_values, "outlier_rules": rules, "levels": levels,
              "tenure_end": tenure_end, "date_ends": date_ends, "composite_stats": stats,
              "log_features": log_features}
    return _Steps(frame=frame, variables=variables, requested=requested, features=features,
                  X_raw=X_raw, dropped=dropped, excluded_ids=excluded, imputed=imputed,
                  outliers=outlier_counts, correlated=correlated, warnings=warnings + unseen,
                  fitted=fitted)


def _drop(base: pd.DataFrame, bad, reason: str, dropped: dict[str, int],
          excluded: dict[str, str]) -> tuple[pd.DataFrame, dict[str, int], dict[str, str]]:
    """The rows flagged ``bad`` leave, counted under ``reason`` and listed by customer id."""
    if not bad.any():
        return base, dropped, excluded
    return (base.loc[~bad], {**dropped, reason: int(bad.sum())},
            {**excluded, **dict.fromkeys(base.index[bad], reason)})


def _imputation(base: pd.DataFrame, values: dict[str, object] | None):
    """Fill the gaps with ``values``, or with values fitted on ``base`` when None."""
    if values is None:
        values = _fit_imputation(base)
    imputed = {c: int(base[c].isna().sum()) for c in base.columns if base[c].isna().any()}
    return _impute(base, values), values, imputed


def _outlier_rules(base: pd.DataFrame, variables: dict[str, Variable],
                   saved: Preparation | None, fit: _FitChoices | None):
    """The saved bounds, or the date bounds and those fitted on ``base`` with a warning for
    each check no value passes."""
    if saved is not None:
        return saved.outlier_rules, ()
    rules, unchecked = _fit_outlier_rules(base, variables)
    return fit.date_rules + rules, unchecked


def _levels(base: pd.DataFrame, variables: dict[str, Variable], saved: Preparation | None):
    """Category levels fitted on ``base`` (variables gain them), or the saved levels with a
    warning for each category value the model never saw."""
    if saved is not None:
        return variables, saved.levels, _unseen_levels(base, variables, saved.levels)
    levels = _fit_levels(base, variables)
    return with_levels(variables, levels), levels, ()


def _date_anchors(base: pd.DataFrame, variables: dict[str, Variable], reference_year: int,
                  saved: Preparation | None) -> tuple[str | None, dict[str, str]]:
    """The dates tenure and days-since are measured to: saved, so a customer scored alone
    gets the tenure they had among everyone, or fitted on ``base``."""
    if saved is not None:
        return saved.tenure_end, saved.date_ends
    return _tenure_end_of(base, variables, reference_year), _fit_date_ends(base, variables)


def _check_derived(features: tuple[str, ...], variables: dict[str, Variable]) -> None:
    missing_derived = [f for f in features if f not in variables]
    if missing_derived:
        raise SegmentationError(
            f"{', '.join(missing_derived)} cannot be computed from this file: "
            "choose other clustering variables."
        )


def _clustering_columns(frame, variables, features, composites, impute_values,
                        saved: Preparation | None, fit: _FitChoices | None):
    """The matrix's columns with their gap fills and log scaling: saved, or from the chosen
    variables (composites replace their pairs, categories become level indicators), with the
    strongly correlated pairs among them."""
    if saved is not None:
        return saved.features, impute_values, saved.log_features, ()
    features = _expand_categories(_apply_composites(features, composites), variables)
    correlated = _suggest_composites(frame, features, variables)
    impute_values = {**impute_values, **_fit_gaps(frame, features)}
    log_features = tuple(
        f for f in features
        if (fit.scaling == "log" and variables[f].kind in LOGGABLE_KINDS) or f in fit.logged)
    return features, impute_values, log_features, correlated


def _unseen_levels(base: pd.DataFrame, variables: dict[str, Variable],
                   levels_by_column: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Warnings for category values that the model never saw (they match no level)."""
    out = []
    for col, levels in levels_by_column.items():
        if col not in base.columns or OTHER_LEVEL in levels:
            continue
        values = base[col].astype(object)
        unseen = values.notna() & ~values.isin(levels)
        if unseen.any():
            examples = ", ".join(repr(str(v)) for v in values[unseen].unique()[:3])
            out.append(
                f"{int(unseen.sum()):,} customers have a {variables[col].label} never seen when "
                f"the model was built ({examples}): they match none of its known values, so "
                "their segment rests on the other variables.")
    return tuple(out)


def _fit_levels(base: pd.DataFrame, variables: dict[str, Variable]) -> dict[str, tuple[str, ...]]:
    """The levels kept for each category: the most common, the rest pooled as "(other)"."""
    out = {}
    for _name, var in variables.items():
        if var.kind not in CATEGORY_KINDS or var.sources[0] not in base.columns:
            continue
        counts = base[var.sources[0]].dropna().astype(str).value_counts()
        if counts.empty:
            continue
        total = counts.sum()
        kept = [str(v) for v, c in counts.items() if c / total >= MIN_LEVEL_SHARE][:MAX_LEVELS]
        if len(kept) < len(counts):
            kept.append(OTHER_LEVEL)
        out[var.sources[0]] = tuple(kept)
    return out


def _fit_date_ends(base: pd.DataFrame, variables: dict[str, Variable]) -> dict[str, str]:
    out = {}
    for var in variables.values():
        col = var.sources[0]
        if var.kind == "days_since" and col in base.columns and \
                pd.api.types.is_datetime64_any_dtype(base[col].dtype) and base[col].notna().any():
            out[col] = base[col].max().isoformat()
    return out


def _fit_gaps(frame: pd.DataFrame, features) -> dict[str, float]:
    """Fill values for derived variables that may be missing (a measure whose code says
    "not applicable"): their median where they apply."""
    out = {}
    for f in features:
        values = frame[f]
        if values.isna().any():
            med = values.median()
            out[f] = float(med) if pd.notna(med) else 0.0
    return out


def _fill_gaps(values: pd.DataFrame, fill: dict[str, object]) -> pd.DataFrame:
    gaps = {c: values[c].fillna(fill.get(c, 0.0)) for c in values.columns if values[c].isna().any()}
    return values.assign(**gaps) if gaps else values


def _expand_categories(features, variables) -> tuple[str, ...]:
    """A chosen category stands for its level indicators in the clustering matrix."""
    out = []
    for f in features:
        levels = _levels_of(f, variables)
        out.extend(levels if variables[f].kind in CATEGORY_KINDS else [f])
    return tuple(dict.fromkeys(out))


def _weights_by_feature(weights: dict[str, float], variables, features) -> dict[str, float]:
    """A category's weight applies to each of its levels."""
    out = dict(weights)
    for name, w in weights.items():
        for level in _levels_of(name, variables):
            if level in features:
                out[level] = w
    return out


def _fixed_scales(features, variables, center, scale):
    """0/1 columns keep their units (see ``LEVEL_SCALE``); everything else is as fitted."""
    center, scale = np.array(center, dtype=float), np.array(scale, dtype=float)
    for i, f in enumerate(features):
        kind = variables[f].kind
        if kind == "level":
            center[i], scale[i] = 0.0, LEVEL_SCALE
        elif kind in BINARY_KINDS:
            center[i], scale[i] = 0.0, FLAG_SCALE
    return center, scale


def _skew_suggestions(frame, features, variables, scaling):
    skewed, out = [], []
    for f in features:
        if variables[f].kind not in LOGGABLE_KINDS:
            continue
        values = frame[f].dropna()
        if len(values) < 3 or values.std() == 0:
            continue
        skew = float(values.skew())
        if skew > SKEW_SUGGESTS_LOG:
            skewed.append(f)
            if scaling != "log":
                out.append(f"{variables[f].label} is skewed (skewness {skew:.1f}): log scaling "
                           "would stop its few largest values from deciding the segments.")
    return tuple(skewed), tuple(out)


def _suggest_composites(
    frame: pd.DataFrame, features: tuple[str, ...], variables: dict[str, Variable],
    threshold: float = CORRELATION_THRESHOLD,
) -> tuple[CompositeSuggestion, ...]:
    """Pairs of chosen variables with Pearson |r| >= ``threshold``, strongest first."""
    if len(frame) < 3:
        return ()
    corr = frame[list(features)].corr()
    out = []
    for a, b in itertools.combinations(features, 2):
        r = corr.loc[a, b]
        if np.isfinite(r) and abs(r) >= threshold:
            out.append(CompositeSuggestion(a, b, float(r), *_composite_name(a, b, variables)))
    return tuple(sorted(out, key=lambda s: -abs(s.r)))


def _composite_name(a: str, b: str, variables: dict[str, Variable]) -> tuple[str, str]:
    va, vb = variables[a], variables[b]
    if {va.detail, vb.detail} == {"wine", "meat"}:
        label = "Premium food spend (wine + meat)"
    else:
        label = f"{va.label} + {vb.label}"
    return f"{a}+{b}", label


def _resolve_features(config: PrepConfig, variables: dict[str, Variable],
                      base: pd.DataFrame | None = None) -> tuple[str, ...]:
    if config.features is None:
        chosen = default_features(variables, frame=base)
        if not chosen:
            raise SegmentationError(
                "No clustering variable could be chosen automatically: "
                "name the variables to cluster on (for example with --features)."
            )
        _check_composites(config.composites, chosen)
        return chosen
    lookup = {n.lower(): n for n in variables} | {v.label.lower(): n for n, v in variables.items()}
    out, unknown = [], []
    for name in config.features:
        resolved = lookup.get(str(name).strip().lower())
        (out.append(resolved) if resolved else unknown.append(name))
    if unknown:
        raise SegmentationError(
            f"Unknown clustering variable {', '.join(map(repr, unknown))}: "
            f"use one of {', '.join(variables)}."
        )
    if not out:
        raise SegmentationError("No clustering variable was chosen: choose at least one.")
    _check_composites(config.composites, out)
    return tuple(dict.fromkeys(out))


def _check_composites(composites, chosen) -> None:
    for a, b in composites:
        if a not in chosen or b not in chosen:
            raise SegmentationError(
                f"The composite {a}+{b} needs both variables among the chosen ones: "
                "add them, or remove the composite."
            )


def _reference_year(dataset: Dataset, date_rules: tuple[OutlierRule, ...] = ()) -> int:
    """The latest plausible signup year: a signup mistyped as 2099 must not age everyone."""
    bounds = {r.variable: (r.low, r.high) for r in date_rules}
    latest = None
    for col, role in dataset.roles.items():
        if role != Role.SIGNUP_DATE or col not in dataset.frame.columns:
            continue
        dates = dataset.frame[col].dropna()
        if col in bounds:
            days = _days(dates)
            dates = dates[(days >= bounds[col][0]) & (days <= bounds[col][1])]
        if len(dates) and (latest is None or dates.max() > latest):
            latest = dates.max()
    return int(latest.year) if latest is not None else pd.Timestamp.today().year


_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)


def _days(dates: pd.Series) -> pd.Series:
    """Dates as days since 1970 (floats, missing stays missing), so date bounds are numbers."""
    return (dates - _EPOCH) / _DAY


def _fit_date_rules(base: pd.DataFrame) -> tuple[OutlierRule, ...]:
    """Plausible ranges for the date columns: not in the future, not far from the bulk.

    The bulk is the 1st to 99th percentile; a date more than DATE_FENCE_SPANS
    of that span (at least a year) beyond it is a typo (2099, 1900-01-01),
    as is any date after today.
    """
    rules = []
    today = (pd.Timestamp.today().normalize() + _DAY - _EPOCH) / _DAY  # a day's grace for time zones
    for col in base.columns:
        if not pd.api.types.is_datetime64_any_dtype(base[col].dtype):
            continue
        days = _days(base[col]).dropna().to_numpy(dtype=float)
        if not len(days):
            continue
        q01, q99 = np.quantile(days, [0.01, 0.99])
        span = max(q99 - q01, 365.0)
        low, high = q01 - DATE_FENCE_SPANS * span, min(q99 + DATE_FENCE_SPANS * span, today)
        plausible = days[(days >= low) & (days <= high)]
        if not len(plausible):
            continue
        rules.append(OutlierRule(col, float(low), float(high), float(plausible.min()),
                                 float(plausible.max()), "date in the future or far from the rest"))
    return tuple(rules)


def _used_columns(dataset: Dataset, variables: dict[str, Variable]):
    used = list(dict.fromkeys(s for v in variables.values() for s in v.sources))
    used = [c for c in used if c in dataset.frame.columns]
    base = dataset.frame[used]
    missing = {c: int(base[c].isna().sum()) for c in used if base[c].isna().any()}
    return base, missing


def _sources(feature, variables, composites) -> tuple[str, ...]:
    if feature in variables:
        return variables[feature].sources
    if " = " in feature:  # a category level
        return (feature.split(" = ", 1)[0],)
    for a, b in composites:
        if feature == f"{a}+{b}":
            return variables[a].sources + variables[b].sources
    return ()


def _fit_imputation(base: pd.DataFrame) -> dict[str, object]:
    values: dict[str, object] = {}
    for col in base.columns:
        series = base[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            med = series.dropna().sort_values()
            values[col] = med.iloc[len(med) // 2].isoformat() if len(med) else None
        elif pd.api.types.is_numeric_dtype(series.dtype):
            med = series.median()
            values[col] = float(med) if pd.notna(med) else 0.0
        else:
            mode = series.dropna().astype(str).mode()
            values[col] = str(mode.iloc[0]) if len(mode) else "unknown"
    return values


def _impute(base: pd.DataFrame, values: dict[str, object]) -> pd.DataFrame:
    filled = {}
    for col in base.columns:
        series = base[col]
        if not series.isna().any() or values.get(col) is None:
            continue
        value = values[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            value = pd.Timestamp(value)
        filled[col] = series.fillna(value)
    return base.assign(**filled) if filled else base


def _fit_outlier_rules(base: pd.DataFrame, variables: dict[str, Variable]) -> tuple:
    """Implausible-value rules per numeric column, and a warning for each check no value passes."""
    rules, unchecked = [], []
    for name in base.columns:
        var = variables.get(name) or (variables["age"] if name == "age" else None)
        if var is None or not pd.api.types.is_numeric_dtype(base[name].dtype):
            continue
        values = base[name].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        far_low, far_high = _far_fence(values)
        if var.kind == "age":
            low, high, why = *AGE_RANGE, "age outside 16-100"
        elif var.kind == "income":
            q50, q995 = np.quantile(values, [0.5, 0.995])
            low, high = 0.0, q995 + INCOME_MARGIN * max(q995 - q50, 0.0)
            why = "income far beyond the 99.5th percentile"
        elif var.kind in {"spend", "channel", "deals", "web_visits", "recency", "children"}:
            low, high = 0.0, far_high
            why = "negative count or amount, or one far beyond the rest"
        else:
            low, high, why = far_low, far_high, "far beyond the rest of the column"
        plausible = values[(values >= low) & (values <= high)]
        if not len(plausible):
            unchecked.append(f"{var.label}: no value passes the check ({why}), so none was "
                             "flagged; check the column's units and role.")
            continue
        rules.append(OutlierRule(name, float(low), float(high),
                                 float(plausible.min()), float(plausible.max()), why))
    return tuple(rules), tuple(unchecked)


def _far_fence(values: np.ndarray) -> tuple[float, float]:
    """Bounds no real value of a column reaches: FAR_FENCE spans of its middle 99% beyond it.

    The span is at least the median's size (or 1), so a column that is nearly
    always one value (most customers never complain) does not flag the rest.
    """
    q005, q50, q995 = np.quantile(values, [0.005, 0.5, 0.995])
    span = max(q995 - q005, abs(q50), 1.0)
    return float(q005 - FAR_FENCE * span), float(q995 + FAR_FENCE * span)


def _apply_outliers(base: pd.DataFrame, rules, policy: str):
    counts: dict[str, int] = {}
    mask = np.zeros(len(base), dtype=bool)
    changes = {}
    for rule in rules:
        if rule.variable not in base.columns:
            continue
        column = base[rule.variable]
        is_date = pd.api.types.is_datetime64_any_dtype(column.dtype)
        values = _days(column) if is_date else column.astype(float)
        flagged = ((values < rule.low) | (values > rule.high)).to_numpy()
        if not flagged.any():
            continue
        counts[rule.variable] = int(flagged.sum())
        if policy == "clip":
            clipped = values.clip(rule.clip_low, rule.clip_high)
            changes[rule.variable] = ((_EPOCH + clipped * _DAY).astype(column.dtype)
                                      if is_date else clipped)
        elif policy == "exclude":
            mask |= flagged
    return (base.assign(**changes) if changes else base), counts, mask


def _add_composites(frame, variables, composites, stats=None):
    stats = dict(stats or {})
    variables = dict(variables)
    added = {}
    for a, b in composites:
        name, label = _composite_name(a, b, variables)
        both_spend = variables[a].is_spend and variables[b].is_spend
        if name not in stats:
            stats[name] = (float(frame[a].mean()), float(frame[a].std(ddof=0) or 1.0),
                           float(frame[b].mean()), float(frame[b].std(ddof=0) or 1.0))
        ma, sa, mb, sb = stats[name]
        if both_spend:  # same units: the sum reads as money
            added[name] = frame[a] + frame[b]
        else:
            added[name] = ((frame[a] - ma) / sa + (frame[b] - mb) / sb) / 2
        variables[name] = Variable(name, label, variables[a].group, "composite", (a, b),
                                   "spend" if both_spend else None)
    return (frame.assign(**added) if added else frame), variables, stats


def _apply_composites(features, composites) -> tuple[str, ...]:
    out = list(features)
    for a, b in composites:
        pos = min(out.index(a), out.index(b))
        out = [f for f in out if f not in (a, b)]
        out.insert(pos, f"{a}+{b}")
    return tuple(out)


def _log_columns(X, features, log_features):
    if not log_features:
        return X
    X = X.copy()
    for i, f in enumerate(features):
        if f in log_features:
            # Signed, so an overdrawn balance stays below zero instead of failing.
            X[:, i] = np.sign(X[:, i]) * np.log1p(np.abs(X[:, i]))
    return X


def _fit_scaler(X: np.ndarray, scaling: str):
    if scaling == "robust":
        center = np.median(X, axis=0)
        q75, q25 = np.percentile(X, [75, 25], axis=0)
        scale = q75 - q25
        # A variable that is mostly one value (most customers never complain)
        # has IQR 0; its standard deviation still measures spread.
        fallback = X.std(axis=0)
        scale = np.where(scale > 1e-12, scale, fallback)
    else:
        center = X.mean(axis=0)
        scale = X.std(axis=0)
    return center, scale


def _scale(X_raw: np.ndarray, prep: Preparation) -> np.ndarray:
    center = np.asarray(prep.center)
    scale = np.asarray(prep.scale)
    weights = np.sqrt(np.asarray(prep.weights))
    return (X_raw - center) / scale * weights
