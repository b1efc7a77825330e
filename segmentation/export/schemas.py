"""The declared shape of every file the tool reads back: model, bundle, sign-up model.

A model or bundle may have been edited by hand, truncated or written by
someone else, and whatever it holds goes straight into arithmetic: a NaN mean
puts every customer in segment 0 without a word. So each file is checked here
against one pydantic schema before any of it is used: types, shapes that fit
the variables, finite numbers in sane ranges. :func:`validate` turns the first
thing wrong into one sentence naming the file, the field and what to do.

The schemas are strict: a number where text belongs, ``3.5`` or ``"3"`` where
a whole number belongs, a list where an object belongs are all refused, never
coerced.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from segmentation.cluster.kmeans import MAX_K
from segmentation.config import (
    MAX_CENTERS,
    MAX_DEPTH,
    MAX_FEATURES,
    MAX_ID_NUMBER,
    MAX_MAGNITUDE,
    MAX_TEXT,
    MAX_TREE_NODES,
    METHODS,
    MIN_SCALE,
    YEARS,
)
from segmentation.data.roles import BINARY_ROLES, NUMERIC_ROLES, parse_role
from segmentation.errors import SegmentationError
from segmentation.export.formats import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    MODEL_FORMAT,
    MODEL_VERSION,
    SIGNUP_FORMAT,
    SIGNUP_VERSION,
)
from segmentation.pipeline import MAX_N_INIT
from segmentation.prepare.features import MISSING_POLICIES, OUTLIER_POLICIES, SCALINGS
from segmentation.prepare.variables import catalogue, with_levels

_INPUT_KINDS = ("auto", "customers", "transactions")

Number = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
Positive = Annotated[float, Field(ge=MIN_SCALE, le=MAX_MAGNITUDE)]
Count = Annotated[int, Field(ge=0, le=int(MAX_MAGNITUDE))]
Year = Annotated[int, Field(ge=YEARS[0], le=YEARS[1])]
Pair = Annotated[list[str], Field(min_length=2, max_length=2)]


def _number_or_text(value: Any) -> float | str:
    """An imputation or fill value: a finite number (numeric columns) or text (categories)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"is text longer than {MAX_TEXT:,} characters")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("is neither a number nor text")
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"is beyond ±{MAX_MAGNITUDE:.0e}")
    return float(value)


def _numbers_where_numeric(values: dict[str, float | str], roles: dict[str, str],
                           what: str) -> None:
    """A numeric column is filled with a number: text there would break the arithmetic."""
    for column, value in values.items():
        role = roles.get(column)
        if role is not None and parse_role(role) in NUMERIC_ROLES | BINARY_ROLES \
                and not isinstance(value, float):
            raise ValueError(f"{what} of the numeric column {column[:40]!r} is not a number")


def _customer_id(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("is not a customer id (text or a whole number)")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"is a customer id of {len(value):,} characters, over {MAX_TEXT:,}")
    if isinstance(value, int) and abs(value) >= MAX_ID_NUMBER:
        raise ValueError("is a customer id number with more digits than any id has")
    return value


def _iso_date(value: str | None, what: str) -> str | None:
    if value is not None:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} {value[:40]!r} is not a date written as YYYY-MM-DD") \
                from None
    return value


NumberOrText = Annotated[float | str, PlainValidator(_number_or_text)]
CustomerId = Annotated[str | int, PlainValidator(_customer_id)]


class _Strict(BaseModel):
    """No coercion, no extra fields, no NaN or infinity, no endless text."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False,
                              str_max_length=MAX_TEXT, frozen=True)


class _Header(BaseModel):
    """What every file starts with: which kind of file, which version of its format."""

    model_config = ConfigDict(extra="allow")

    format: Any = None
    version: int


# ---------------------------------------------------------------------------------- model.json
class OutlierRuleSchema(_Strict):
    variable: str
    low: Number
    high: Number | None  # JSON has no infinity: an open upper bound is null
    clip_low: Number
    clip_high: Number
    why: str

    @model_validator(mode="after")
    def _ordered(self):
        if self.high is not None and self.low > self.high:
            raise ValueError(f"its low bound {self.low:g} is above its high bound {self.high:g}")
        if self.clip_low > self.clip_high:
            raise ValueError(f"its clip_low {self.clip_low:g} is above its clip_high "
                             f"{self.clip_high:g}")
        return self


class PreparationSchema(_Strict):
    roles: dict[str, str]
    id_column: str | None
    features: Annotated[list[str], Field(min_length=1, max_length=MAX_FEATURES)]
    scaling: Literal[SCALINGS]
    missing: Literal[MISSING_POLICIES]
    outliers: Literal[OUTLIER_POLICIES]
    reference_year: Year
    tenure_end: str | None = None
    impute_values: dict[str, NumberOrText]
    outlier_rules: list[OutlierRuleSchema]
    composites: list[Pair]
    composite_stats: dict[str, Annotated[list[Number], Field(min_length=4, max_length=4)]]
    log_features: list[str]
    center: list[Number]
    scale: list[Positive]
    weights: list[Positive]
    levels: dict[str, list[str]] = {}
    sentinels: dict[str, Number] = {}
    date_ends: dict[str, str] = {}
    labels: dict[str, str] = {}

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, str]) -> dict[str, str]:
        for column, role in roles.items():
            try:
                parse_role(role)
            except ValueError:
                raise ValueError(f"the role {role[:40]!r} of column {column[:40]!r} is not a "
                                 "role this tool knows") from None
        return roles

    @field_validator("tenure_end")
    @classmethod
    def _tenure_end(cls, value: str | None) -> str | None:
        return _iso_date(value, "tenure_end")

    @model_validator(mode="after")
    def _shapes(self):
        n = len(self.features)
        if len(set(self.features)) != n:
            raise ValueError("features names a variable twice")
        for name in ("center", "scale", "weights"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for "
                                 f"{n} features")
        known = (set(with_levels(catalogue(self.roles, self.labels),
                                 {k: tuple(v) for k, v in self.levels.items()}))
                 | {f"{a}+{b}" for a, b in self.composites})
        unknown = [f for f in self.features if f not in known]
        if unknown:
            raise ValueError(f"the feature {unknown[0][:40]!r} is no variable of its roles")
        if not set(self.log_features) <= set(self.features):
            raise ValueError("log_features names a variable that is not a feature")
        _numbers_where_numeric(self.impute_values, self.roles, "impute_values")
        return self


class PersonaNameSchema(_Strict):
    segment: Annotated[int, Field(ge=0, lt=MAX_CENTERS)]
    name: str


def _check_segments(segments: list[int], expected: set[int], what: str) -> None:
    if len(segments) != len(set(segments)) or set(segments) != expected:
        raise ValueError(f"{what} do not name each of the segments "
                         f"{min(expected)}..{max(expected)} once")


class _MethodParamsSchema(_Strict):
    """What a method other than k-means needs to assign new customers (see
    :func:`segmentation.cluster.methods.assign_with`); each method fills its own fields."""

    weights: list[Annotated[float, Field(ge=0, le=1)]] | None = None
    precisions_cholesky: list[list[list[Number]]] | None = None
    reach: list[Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)]] | None = None
    min_cluster_size: Count | None = None
    gamma: Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)] | None = None
    categorical: list[list[Annotated[int, Field(ge=0, lt=MAX_FEATURES)]]] | None = None


# The fields each method's scoring rule reads from ``method_params``.
_METHOD_NEEDS = {"gmm": ("weights", "precisions_cholesky"), "hdbscan": ("reach",),
                 "kprototypes": ("gamma", "categorical")}
class _StrataSchema(_Strict):
    """The strata of a model found within strata (see :mod:`segmentation.cluster.strata`)."""

    column: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    kind: Literal["quantiles", "cuts", "category"]
    cuts: list[Number]
    values: list[Annotated[str, Field(max_length=MAX_TEXT)]]
    labels: list[Annotated[str, Field(max_length=MAX_TEXT)]]
    segments: list[Annotated[int, Field(ge=0)]]
    shift: list[list[Number]]
    spread: list[list[Positive]]

    @model_validator(mode="after")
    def _shapes(self):
        n = len(self.values) if self.kind == "category" else len(self.cuts) + 1
        if not 2 <= n == len(self.labels) == len(self.shift) == len(self.spread):
            raise ValueError(f"the strata do not add up: {n} strata, {len(self.labels)} "
                             f"labels, {len(self.shift)} shifts, {len(self.spread)} spreads")
        if any(b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)):
            raise ValueError("the strata's cut-offs are not in increasing order")
        if any(s >= n for s in self.segments):
            raise ValueError(f"a segment names a stratum beyond the {n} strata")
        return self


class ModelSchema(_Strict):
    """``model.json``: a fitted preparation, the segment centres (scaled) and their names."""

    format: Literal[MODEL_FORMAT]
    version: Annotated[int, Field(ge=1, le=MODEL_VERSION)]
    created: str | None = None
    preparation: PreparationSchema
    centers: Annotated[list[list[Number]], Field(min_length=2, max_length=MAX_CENTERS)]
    personas: list[PersonaNameSchema]
    seed: Annotated[int, Field(ge=0, lt=2**32)] | None = None
    versions: dict[str, str] = {}
    method: Literal[METHODS] = "kmeans"
    method_params: _MethodParamsSchema = _MethodParamsSchema()

    @model_validator(mode="after")
    def _method_shapes(self):
        k, n, p = len(self.centers), len(self.preparation.features), self.method_params
        for name in _METHOD_NEEDS.get(self.method, ()):
            if getattr(p, name) is None:
                raise ValueError(f"the {self.method} model lacks its {name}")
        if self.method == "gmm" and (len(p.weights) != k or {
                (len(m), *{len(r) for r in m}) for m in p.precisions_cholesky} != {(n, n)}
                or len(p.precisions_cholesky) != k):
            raise ValueError(f"the mixture's weights and precisions do not fit {k} segments "
                             f"of {n} features")
        if self.method == "hdbscan" and len(p.reach) != k:
            raise ValueError(f"the reach has {len(p.reach)} values for {k} segments")
        if self.method == "kprototypes" and any(c >= n for g in p.categorical for c in g):
            raise ValueError(f"a category column lies beyond the {n} features")
        return self
    strata: _StrataSchema | None = None

    @model_validator(mode="after")
    def _shapes(self):
        n = len(self.preparation.features)
        if self.strata is not None and (
                len(self.strata.segments) != len(self.centers)
                or {len(v) for v in self.strata.shift + self.strata.spread} != {n}):
            raise ValueError("the strata do not match the centres or the variables")
        widths = {len(row) for row in self.centers}
        if widths != {n}:
            raise ValueError(f"the centres do not match the variables: rows of "
                             f"{sorted(widths)[0] if len(widths) == 1 else 'unequal'} values "
                             f"for {n} features")
        _check_segments([p.segment for p in self.personas], set(range(len(self.centers))),
                        "the personas")
        return self


# ---------------------------------------------------------------------------- sign-up model
class TreeSchema(_Strict):
    feature: list[int]
    threshold: list[Number]
    children_left: list[int]
    children_right: list[int]
    value: list[list[Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)]]]
    classes: list[int]

    @model_validator(mode="after")
    def _a_tree(self):
        n = len(self.feature)
        if not 1 <= n <= MAX_TREE_NODES:
            raise ValueError(f"the tree has {n} nodes, not 1 to {MAX_TREE_NODES:,}")
        for name in ("threshold", "children_left", "children_right", "value"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"tree.{name} has {len(getattr(self, name))} entries for "
                                 f"{n} nodes")
        for node, (left, right) in enumerate(zip(self.children_left, self.children_right, strict=True)):
            # Children come after their parent, so walking the tree always ends.
            leaf = left == -1 and right == -1
            if not leaf and not (node < left < n and node < right < n):
                raise ValueError(f"tree node {node} has children {left}, {right} that are "
                                 "not later nodes of the tree")
        return self


class LogisticSchema(_Strict):
    mean: list[Number]
    scale: list[Positive]
    coef: Annotated[list[list[Number]], Field(min_length=1)]
    intercept: Annotated[list[Number], Field(min_length=1)]
    classes: list[int]


class AccuracySchema(_Strict):
    accuracy: Annotated[float, Field(ge=0, le=1)]
    folds: list[Annotated[float, Field(ge=0, le=1)]]
    ci95: Annotated[list[Number], Field(min_length=2, max_length=2)]


class EvaluationSchema(_Strict):
    baseline_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    best_model: Literal["tree", "logistic"] | None = None
    tree: AccuracySchema | None = None
    logistic: AccuracySchema | None = None
    predicts: bool = False
    margin: Annotated[float, Field(ge=-1, le=1)] | None = None
    verdict: str = ""
    confusion: list[list[Count]] = []
    confusion_model: Literal["tree", "logistic"] | None = None
    tree_text: str = ""
    folds: Annotated[int, Field(ge=2, le=100)] | None = None
    rules: list[str] = []


class SignupSchema(_Strict):
    """A sign-up model, standalone or kept in a bundle under ``"signup"``."""

    format: Literal[SIGNUP_FORMAT]
    version: Annotated[int, Field(ge=1, le=SIGNUP_VERSION)]
    features: Annotated[list[str], Field(min_length=1, max_length=MAX_FEATURES)]
    categories: dict[str, list[str]]
    columns: list[str]
    fill: dict[str, NumberOrText]
    bounds: dict[str, Annotated[list[Number], Field(min_length=2, max_length=2)]]
    source_fill: dict[str, NumberOrText]
    roles: dict[str, str]
    id_column: str | None
    reference_year: Year
    labels: dict[str, str]
    personas: list[PersonaNameSchema]
    classes: Annotated[list[Annotated[int, Field(ge=0, lt=MAX_CENTERS)]],
                       Field(min_length=2, max_length=MAX_CENTERS)]
    tree: TreeSchema
    logistic: LogisticSchema
    evaluation: EvaluationSchema = EvaluationSchema()

    @model_validator(mode="after")
    def _shapes(self):
        if len(set(self.features)) != len(self.features):
            raise ValueError("features names a variable twice")
        if not set(self.categories) <= set(self.features):
            raise ValueError("categories names a column that is not a feature")
        expected = [c for f in self.features
                    for c in ([f"{f}={level}" for level in self.categories[f]]
                              if f in self.categories else [f])]
        if self.columns != expected:
            raise ValueError("columns do not match the features and their category levels")
        if set(self.fill) != set(self.features):
            raise ValueError("fill does not give one value per feature")
        numeric = [f for f in self.features if f not in self.categories]
        for f in numeric:
            if not isinstance(self.fill[f], float):
                raise ValueError(f"fill of the numeric feature {f[:40]!r} is not a number")
            if f not in self.bounds:
                raise ValueError(f"bounds lack the numeric feature {f[:40]!r}")
            low, high = self.bounds[f]
            if low > high:
                raise ValueError(f"bounds of {f[:40]!r} run from {low:g} down to {high:g}")
        _numbers_where_numeric(self.source_fill, self.roles, "source_fill")
        k, n = len(self.classes), len(self.columns)
        if len(set(self.classes)) != k:
            raise ValueError("classes names a segment twice")
        t = self.tree
        for node, (feature, left) in enumerate(zip(t.feature, t.children_left, strict=True)):
            # scikit-learn marks a leaf's feature -2; a split reads one of the columns.
            if not (feature == -2 if left == -1 else 0 <= feature < n):
                raise ValueError(f"tree node {node} reads feature {feature}, which is not "
                                 f"{'-2 for a leaf' if left == -1 else f'a column (0 to {n - 1})'}")
        _check_segments([p.segment for p in self.personas], set(self.classes), "the personas")
        lg = self.logistic
        rows = len(lg.coef)
        # scikit-learn keeps one coefficient row for two classes, one per class otherwise.
        if rows != (1 if k == 2 else k):
            raise ValueError(f"logistic.coef has {rows} rows for {k} classes "
                             f"(it needs {1 if k == 2 else k})")
        if len(lg.intercept) != rows:
            raise ValueError(f"logistic.intercept has {len(lg.intercept)} values for "
                             f"{rows} coefficient rows")
        if {len(r) for r in lg.coef} != {n}:
            raise ValueError(f"logistic.coef rows do not have one value per column ({n})")
        for name in ("mean", "scale"):
            if len(getattr(lg, name)) != n:
                raise ValueError(f"logistic.{name} has {len(getattr(lg, name))} values for "
                                 f"{n} columns")
        if lg.classes != self.classes:
            raise ValueError("logistic.classes differ from classes")
        t = self.tree
        if t.classes != self.classes or any(len(v) != k for v in t.value):
            raise ValueError("the tree's classes differ from classes")
        for node, (left, feature) in enumerate(zip(t.children_left, t.feature, strict=True)):
            if left != -1 and not 0 <= feature < n:
                raise ValueError(f"tree node {node} splits on column {feature}, which does "
                                 "not exist")
        if self.evaluation.confusion and (len(self.evaluation.confusion) != k or any(
                len(r) != k for r in self.evaluation.confusion)):
            raise ValueError(f"evaluation.confusion is not {k} by {k}")
        return self


# ---------------------------------------------------------------------------------- bundle.json
class PrepConfigSchema(_Strict):
    features: Annotated[list[str], Field(min_length=1, max_length=MAX_FEATURES)] | None = None
    missing: Literal[MISSING_POLICIES] = "impute"
    outliers: Literal[OUTLIER_POLICIES] = "clip"
    scaling: Literal[SCALINGS] = "zscore"
    weights: list[tuple[str, Positive]] = []
    composites: list[Pair] = []
    reference_year: Year | None = None
    labels: list[Pair] = []

    @field_validator("weights", mode="before")
    @classmethod
    def _weight_pairs(cls, value):
        # JSON writes a (name, weight) pair as a list; strict mode wants the tuple.
        if isinstance(value, list):
            return [tuple(p) if isinstance(p, list) else p for p in value]
        return value


class RunConfigSchema(_Strict):
    """The settings of a run, as :class:`segmentation.pipeline.RunConfig` holds them."""

    prep: PrepConfigSchema
    k: Annotated[int, Field(ge=2, le=MAX_K)] | None
    k_min: Annotated[int, Field(ge=2, le=MAX_K)]
    k_max: Annotated[int, Field(ge=2, le=MAX_K)]
    random_state: Annotated[int, Field(ge=0, lt=2**32)]
    n_init: Annotated[int, Field(ge=1, le=MAX_N_INIT)]
    id_column: str | None = None
    roles: list[Pair] = []
    stability: bool = True
    input_kind: Literal[_INPUT_KINDS] = "auto"
    log_map: list[Pair] = []
    reference_date: str | None = None
    sheet: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    method: Literal[METHODS] = "kmeans"
    strata: Annotated[str, Field(max_length=MAX_TEXT)] | None = None

    @field_validator("reference_date")
    @classmethod
    def _reference_date(cls, value: str | None) -> str | None:
        return _iso_date(value, "reference_date")

    @model_validator(mode="after")
    def _range(self):
        if self.k_min > self.k_max:
            raise ValueError(f"k_min {self.k_min} is above k_max {self.k_max}")
        return self


class DataSchema(_Strict):
    name: str
    fingerprint: str
    rows_read: Count | None = None


class PersonaRecordSchema(_Strict):
    signature: dict[str, Number]
    fields: dict[str, str]


class AssignmentsSchema(_Strict):
    customer_id: list[CustomerId]
    segment: list[Annotated[int, Field(ge=0, lt=MAX_CENTERS)]]

    @model_validator(mode="after")
    def _aligned(self):
        if len(self.customer_id) != len(self.segment):
            raise ValueError(f"{len(self.customer_id):,} customer ids but "
                             f"{len(self.segment):,} segments")
        return self


class BundleSchema(_Strict):
    """``bundle.json``: settings, model, persona records, assignments, optional sign-up model."""

    format: Literal[BUNDLE_FORMAT]
    version: Annotated[int, Field(ge=1, le=BUNDLE_VERSION)]
    created: str = ""
    data: DataSchema
    settings: RunConfigSchema
    model: ModelSchema
    personas: list[PersonaRecordSchema]
    assignments: AssignmentsSchema
    versions: dict[str, str] = {}
    signup: SignupSchema | None = None

    @model_validator(mode="after")
    def _consistent(self):
        k = len(self.model.centers)
        # Within strata, K is each stratum's, not the whole model's.
        if self.settings.k is not None and self.settings.k != k and self.settings.strata is None:
            raise ValueError(f"settings.k is {self.settings.k} but the model has {k} segments")
        if any(s >= k for s in self.assignments.segment):
            raise ValueError(f"an assignment names a segment beyond the model's {k}")
        return self


# ------------------------------------------------------------------------------------ messages
def check_header(data: Any, fmt: str, newest: int, refusal: str, damaged: str) -> None:
    """Refuse a file of another kind, or of a newer format, before validating the rest.

    ``refusal`` is the sentence for another kind of file; ``damaged`` names the file
    for :func:`_describe` ("The model file").
    """
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise SegmentationError(refusal)
    try:
        version = _Header.model_validate(data).version
    except ValidationError as exc:
        raise SegmentationError(_describe(exc, damaged, "")) from None
    if version > newest:
        raise SegmentationError(
            f"{damaged} is version {version}, newer than this tool reads ({newest}): "
            "upgrade the tool."
        )
    if version < 1:
        raise SegmentationError(f"{damaged} is damaged: its version {version} is not 1 or "
                                f"more; write it again.")


def validate(schema: type[BaseModel], data: Any, what: str, remedy: str) -> BaseModel:
    """``data`` checked against ``schema``, or one sentence naming the first thing wrong.

    Parameters
    ----------
    schema : pydantic model class
        :class:`ModelSchema`, :class:`BundleSchema` or :class:`SignupSchema`.
    data : object
        The parsed JSON.
    what : str
        The file as the user knows it ("model.json", "The bundle").
    remedy : str
        What to do instead, e.g. "write a new one with 'python -m segmentation run'".

    Raises
    ------
    SegmentationError
        "model.json is damaged: centers[2][1] is not a finite number; write a new one ...".
    """
    try:
        return schema.model_validate(_as_json(data))
    except ValidationError as exc:
        raise SegmentationError(_describe(exc, what, remedy)) from None
    except (RecursionError, _TooDeep):
        raise SegmentationError(f"{what} is nested too deeply to be a file of this tool: "
                                f"{remedy}.") from None


class _TooDeep(Exception):
    pass


def _as_json(data: Any, depth: int = 0) -> Any:
    """``data`` as JSON would give it back: tuples become lists (the strict schemas take
    lists), refused past ``MAX_DEPTH`` levels."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(data, dict):
        return {k: _as_json(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_as_json(v, depth + 1) for v in data]
    return data


def _field_path(loc: tuple) -> str:
    """``("centers", 2, 1)`` → ``centers[2][1]``; ``("preparation", "scale")`` → ``preparation.scale``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_PROBLEMS = {
    "missing": "is missing",
    "finite_number": "is not a finite number",
    "float_type": "is not a number",
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "list_type": "is not a list",
    "dict_type": "is not an object",
    "tuple_type": "is not a pair",
    "model_type": "is not an object",
    "model_attributes_type": "is not an object",
    "extra_forbidden": "is not a field of this file",
    "none_required": "is not null",
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(exc: ValidationError, what: str, remedy: str) -> str:
    """The first error of a pydantic validation as one sentence: the file, the field, what to do."""
    error = exc.errors(include_url=False)[0]
    kind, ctx, loc = error["type"], error.get("ctx") or {}, error["loc"]
    path = _field_path(loc)
    if kind in _PROBLEMS:
        problem = _PROBLEMS[kind]
    elif kind in {"too_short", "too_long"}:
        low, high = ctx.get("min_length"), ctx.get("max_length")
        allowed = (f"exactly {low}" if low == high else f"at least {low}" if high is None
                   else f"at most {high}" if not low else f"{low} to {high}")
        problem = f"has {ctx.get('actual_length')} entries where {allowed} are allowed"
    elif kind in {"greater_than_equal", "greater_than", "less_than", "less_than_equal"}:
        limit = next(iter(ctx.values()))
        side = {"greater_than_equal": "below", "greater_than": "not above",
                "less_than": "not below", "less_than_equal": "above"}[kind]
        problem = f"is {_short(error['input'])}, {side} the limit {limit:g}"
    elif kind == "literal_error":
        problem = f"is {_short(error['input'])}, not {ctx.get('expected', 'an allowed value')}"
    elif kind == "string_too_long":
        problem = f"is text longer than {ctx.get('max_length', MAX_TEXT):,} characters"
    elif kind == "value_error":
        problem = str(ctx.get("error", error["msg"]))
    else:
        problem = error["msg"][:1].lower() + error["msg"][1:]
    problem = problem.replace(". ", ", ").rstrip(".")
    if kind == "value_error" and path:
        where = f"{path}: {problem}" if not problem.startswith(("is ", "has ")) else \
            f"{path} {problem}"
    else:
        where = f"{path} {problem}" if path else problem
    tail = f"; {remedy}" if remedy else ""
    return f"{what} is damaged: {where}{tail}."
