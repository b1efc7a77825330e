"""Predicting the segment of a brand-new customer from what is known at sign-up.

A new customer has demographics (income, age, children, household, education)
and perhaps an acquisition channel or another category, but no purchase
history yet. The segments, however, are made of spend, purchases, recency and
campaign responses. Those variables are therefore excluded by default: they
are unknown at sign-up, and using them would only re-describe the segments
(the accuracy would look excellent and mean nothing for a new customer).

Two models are trained on the sign-up variables of a segmentation: a shallow
decision tree (its rules can be read out in plain words) and a multinomial
logistic regression on standardised inputs. Both are cross-validated against
the majority-class baseline, and :attr:`SignupModel.verdict` says plainly
whether sign-up data can predict the segment at all.

Predictions use the logistic model: it gives smooth probabilities and was
usually as accurate as the tree or better. Both models are stored as plain
JSON (no pickle), so a sign-up model can live inside a segmentation bundle
under the optional key ``"signup"`` (see :func:`_add_to_bundle`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import (
    CLEAR_MARGIN,
    DEFAULT_SEED,
)
from segmentation.data.roles import Role
from segmentation.errors import SegmentationError
from segmentation.export.bundle import check_bundle, read_bundle_json
from segmentation.export.formats import BUNDLE_FORMAT, SIGNUP_FORMAT, SIGNUP_VERSION
from segmentation.prepare.variables import age_from, catalogue, derive

BUNDLE_KEY = "signup"
_NOT_AT_SIGNUP = {"tenure"}  # tenure is zero for a customer who just signed up


def signup_candidates(result) -> list[str]:
    """Variables known when a customer signs up: demographics and categorical columns.

    Demographics (income, age, children, household size, education level;
    not tenure) come from the derived variables; columns with the role
    "category" (an acquisition channel, a region ...) are added as they are.
    Spend, purchases, recency and campaign responses are left out: they are
    what the segments are made of, and a new customer has none of them yet.
    """
    variables = result.features.variables
    frame = result.features.frame
    out = [n for n, v in variables.items()
           if v.group == "Demographics" and v.kind not in _NOT_AT_SIGNUP and n in frame.columns]
    out += [c for c, r in result.dataset.roles.items()
            if r == Role.CATEGORY and c in result.dataset.frame.columns]
    return out


@dataclass(frozen=True)
class SignupModel:
    """A fitted sign-up model: variables, both classifiers as plain arrays, and its evaluation.

    ``predict`` uses the logistic model; ``predict_tree`` the decision tree.
    """

    features: tuple[str, ...]  # sign-up variables (numeric names or categorical columns)
    categories: dict[str, tuple[str, ...]]  # categorical column -> levels one-hot encoded
    columns: tuple[str, ...]  # design-matrix columns (numeric, then "col=level")
    fill: dict[str, object]  # per feature: value used when missing
    bounds: dict[str, tuple[float, float]]  # numeric feature -> training min, max
    source_fill: dict[str, object]  # raw source column -> value used when missing
    roles: dict[str, str]
    id_column: str | None
    reference_year: int
    labels: dict[str, str]  # design column -> readable label
    persona_names: dict[int, str]
    classes: tuple[int, ...]
    tree: dict
    logistic: dict
    evaluation: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ evaluation
    @property
    def verdict(self) -> str:
        return str(self.evaluation.get("verdict", ""))

    @property
    def predicts(self) -> bool:
        return bool(self.evaluation.get("predicts", False))

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(self.evaluation.get("rules", ()))

    @property
    def confusion(self) -> pd.DataFrame:
        """Cross-validated confusion matrix of the better model: true rows, predicted columns."""
        names = [self.persona_names.get(c, f"Segment {c}") for c in self.classes]
        return pd.DataFrame(self.evaluation.get("confusion", []), index=names, columns=names)

    # ------------------------------------------------------------------ prediction
    def design(self, frame: pd.DataFrame) -> np.ndarray:
        """The numeric matrix the models read: missing values filled, categories one-hot."""
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise SegmentationError(
                f"The new customers lack the sign-up variables {', '.join(missing)}: "
                "provide them with the same columns as the segmented file."
            )
        parts = []
        for f in self.features:
            if f in self.categories:
                values = frame[f].astype(object).where(frame[f].notna(), self.fill[f])
                values = values.astype(str)
                parts += [(values == level).to_numpy(dtype=float) for level in self.categories[f]]
            else:
                values = pd.to_numeric(frame[f], errors="coerce").astype(float)
                values = values.fillna(float(self.fill[f]))
                parts.append(values.to_numpy(dtype=float))
        return np.column_stack(parts) if parts else np.empty((len(frame), 0))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        X = self.design(frame)
        lg = self.logistic
        Z = (X - np.asarray(lg["mean"])) / np.asarray(lg["scale"])
        coef = np.asarray(lg["coef"], dtype=float)
        scores = Z @ coef.T + np.asarray(lg["intercept"], dtype=float)
        if coef.shape[0] == 1:  # two segments: a binary logistic model
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p, p])
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Segment, persona and probability of each row (indexed by customer id)."""
        proba = self.predict_proba(frame)
        best = proba.argmax(axis=1) if len(frame) else np.empty(0, dtype=int)
        segments = np.asarray(self.classes, dtype=int)[best]
        return pd.DataFrame({
            "customer_id": pd.Series([str(i) for i in frame.index], dtype=object),
            "segment": segments,
            "persona": [self.persona_names.get(int(s), f"Segment {s}") for s in segments],
            "probability": proba[np.arange(len(best)), best] if len(frame) else np.empty(0),
        })

    def predict_tree(self, frame: pd.DataFrame) -> np.ndarray:
        """Segments from the stored decision tree (the same as the fitted tree's)."""
        X = self.design(frame).astype(np.float32)  # trees compare in single precision
        t = self.tree
        feature, threshold = t["feature"], t["threshold"]
        left, right = t["children_left"], t["children_right"]
        value = np.asarray(t["value"], dtype=float)
        out = np.empty(len(X), dtype=int)
        for i, row in enumerate(X):
            node = 0
            while left[node] != -1:
                node = left[node] if row[feature[node]] <= threshold[node] else right[node]
            out[i] = self.classes[int(value[node].argmax())]
        return out

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {
            "format": SIGNUP_FORMAT,
            "version": SIGNUP_VERSION,
            "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "columns": list(self.columns),
            "fill": dict(self.fill),
            "bounds": {k: [float(a), float(b)] for k, (a, b) in self.bounds.items()},
            "source_fill": dict(self.source_fill),
            "roles": dict(self.roles),
            "id_column": self.id_column,
            "reference_year": int(self.reference_year),
            "labels": dict(self.labels),
            "personas": [{"segment": int(s), "name": n} for s, n in self.persona_names.items()],
            "classes": [int(c) for c in self.classes],
            "tree": self.tree,
            "logistic": self.logistic,
            "evaluation": self.evaluation,
        }

    @classmethod
    def from_dict(cls, data: dict, what: str = "The sign-up model") -> SignupModel:
        """A sign-up model from parsed JSON, checked against
        :class:`segmentation.export.schemas.SignupSchema` (shapes, finite numbers, a real tree)."""
        # pydantic loads only when a model is read back: the Plan page lists the sign-up
        # columns on every visit and need not pay for it.
        from segmentation.export.schemas import SignupSchema, check_header, validate

        check_header(data, SIGNUP_FORMAT, SIGNUP_VERSION, NOT_A_SIGNUP_MODEL, what)
        m = validate(SignupSchema, data, what, REMEDY)
        return cls(
            features=tuple(m.features),
            categories={k: tuple(v) for k, v in m.categories.items()},
            columns=tuple(m.columns), fill=dict(m.fill),
            bounds={k: (v[0], v[1]) for k, v in m.bounds.items()},
            source_fill=dict(m.source_fill), roles=dict(m.roles), id_column=m.id_column,
            reference_year=m.reference_year, labels=dict(m.labels),
            persona_names={p.segment: p.name for p in m.personas},
            classes=tuple(m.classes), tree=m.tree.model_dump(),
            logistic=m.logistic.model_dump(),
            evaluation=m.evaluation.model_dump(exclude_unset=True),
        )


NOT_A_SIGNUP_MODEL = ("This is not a sign-up model: train one on the Plan page or with "
                      "segmentation.plan.signup.train and save it in the bundle.")
REMEDY = "train the sign-up model again and save it in the bundle"


# ---------------------------------------------------------------------- training
def train(result, features: list[str] | None = None, random_state: int = DEFAULT_SEED,
          cv: int = 5) -> SignupModel:
    """Train and cross-validate both sign-up models on a segmentation's customers.

    Parameters
    ----------
    result : SegmentationResult
    features : list of str, optional
        Sign-up variables (default: :func:`signup_candidates`). Derived variable
        names or categorical columns of the dataset.
    random_state : int
        Seed of the tree and of the shuffled stratified folds.
    cv : int
        Number of folds (fewer when the smallest segment is smaller).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, export_text

    fm, dataset = result.features, result.dataset
    chosen = list(dict.fromkeys(features if features is not None else signup_candidates(result)))
    if not chosen:
        raise SegmentationError(
            "No sign-up variable is available in this file: it needs demographics such as "
            "income, age or children, or a category column such as the acquisition channel."
        )
    cat_cols = {c for c, r in dataset.roles.items() if r == Role.CATEGORY}
    unknown = [f for f in chosen if f not in fm.frame.columns and f not in cat_cols]
    if unknown:
        raise SegmentationError(
            f"Unknown sign-up variable {', '.join(map(repr, unknown))}: use one of "
            f"{', '.join(signup_candidates(result))}."
        )
    frame = pd.DataFrame(index=fm.frame.index)
    categories: dict[str, tuple[str, ...]] = {}
    fill: dict[str, object] = {}
    bounds: dict[str, tuple[float, float]] = {}
    labels: dict[str, str] = {}
    for f in chosen:
        if f in fm.frame.columns and f not in cat_cols:
            values = fm.frame[f].astype(float)
            frame[f] = values
            med = values.median()
            fill[f] = float(med) if pd.notna(med) else 0.0
            bounds[f] = (float(values.min()), float(values.max()))
            labels[f] = fm.variables[f].label if f in fm.variables else f
        else:
            raw = dataset.frame[f].reindex(fm.frame.index)
            mode = raw.dropna().astype(str).mode()
            fill[f] = str(mode.iloc[0]) if len(mode) else "unknown"
            values = raw.astype(object).where(raw.notna(), fill[f]).astype(str)
            frame[f] = values
            categories[f] = tuple(sorted(values.unique()))
    columns = []
    for f in chosen:
        if f in categories:
            for level in categories[f]:
                columns.append(f"{f}={level}")
                labels[f"{f}={level}"] = f"{f} = {level}"
        else:
            columns.append(f)

    y = np.asarray(result.segmentation.labels, dtype=int)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        raise SegmentationError(
            "A sign-up model needs at least two segments with two customers each: "
            "segment a larger file first."
        )
    names = {p.segment: p.name for p in result.personas}
    base = SignupModel(
        features=tuple(chosen), categories=categories, columns=tuple(columns), fill=fill,
        bounds=bounds, source_fill=_source_fill(dataset, fm.variables, chosen),
        roles=dict(dataset.roles), id_column=dataset.id_column,
        reference_year=int(fm.preparation.reference_year), labels=labels,
        persona_names={int(c): names.get(int(c), f"Segment {c}") for c in classes},
        classes=tuple(int(c) for c in classes),
        tree={}, logistic={"mean": [0.0] * len(columns), "scale": [1.0] * len(columns),
                           "coef": [[0.0] * len(columns)], "intercept": [0.0]},
    )
    X = base.design(frame)

    tree = DecisionTreeClassifier(max_depth=3, random_state=random_state)
    logistic = Pipeline([("scale", StandardScaler()),
                         ("model", LogisticRegression(max_iter=2000))])
    folds = StratifiedKFold(n_splits=max(2, min(cv, int(counts.min()))), shuffle=True,
                            random_state=random_state)
    scores = {"tree": cross_val_score(tree, X, y, cv=folds),
              "logistic": cross_val_score(logistic, X, y, cv=folds)}
    baseline = float(counts.max() / counts.sum())
    best_name = max(scores, key=lambda k: (scores[k].mean(), k == "logistic"))
    best = tree if best_name == "tree" else logistic
    predicted = cross_val_predict(best, X, y, cv=folds)
    confusion = confusion_matrix(y, predicted, labels=classes)

    tree.fit(X, y)
    logistic.fit(X, y)
    t = tree.tree_
    tree_dict = {
        "feature": [int(v) for v in t.feature],
        "threshold": [float(v) for v in t.threshold],
        "children_left": [int(v) for v in t.children_left],
        "children_right": [int(v) for v in t.children_right],
        "value": [[float(x) for x in row[0]] for row in t.value],
        "classes": [int(c) for c in tree.classes_],
    }
    scaler, lr = logistic.named_steps["scale"], logistic.named_steps["model"]
    logistic_dict = {
        "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_],
        "coef": [[float(x) for x in row] for row in lr.coef_],
        "intercept": [float(v) for v in lr.intercept_],
        "classes": [int(c) for c in lr.classes_],
    }
    readable = [labels[c] for c in columns]
    evaluation = _evaluate(scores, baseline, best_name)
    evaluation.update({
        "confusion": confusion.astype(int).tolist(),
        "confusion_model": best_name,
        "tree_text": export_text(tree, feature_names=readable),
        "folds": int(folds.get_n_splits()),
    })
    model = SignupModel(**{**base.__dict__, "tree": tree_dict, "logistic": logistic_dict,
                           "evaluation": evaluation})
    evaluation["rules"] = _tree_rules(model)
    return model


def _evaluate(scores: dict, baseline: float, best_name: str) -> dict:
    """Accuracies, 95% intervals over the folds, and the plain-words verdict."""
    out: dict = {"baseline_accuracy": baseline, "best_model": best_name}
    for name, s in scores.items():
        half = 1.96 * float(s.std(ddof=1)) / math.sqrt(len(s)) if len(s) > 1 else 0.0
        out[name] = {"accuracy": float(s.mean()), "folds": [float(x) for x in s],
                     "ci95": [float(s.mean()) - half, float(s.mean()) + half]}
    best = out[best_name]
    margin = best["accuracy"] - baseline
    predicts = margin >= CLEAR_MARGIN and best["ci95"][0] > baseline
    label = "decision tree" if best_name == "tree" else "logistic regression"
    if predicts:
        verdict = (f"Sign-up data predicts the segment: the {label} is right for "
                   f"{best['accuracy']:.0%} of customers in cross-validation, against "
                   f"{baseline:.0%} by always guessing the largest segment.")
    else:
        verdict = (f"Sign-up data cannot predict the segment: the best model ({label}) is "
                   f"right for {best['accuracy']:.0%} of customers in cross-validation, no "
                   f"clearly better than the {baseline:.0%} of always guessing the largest "
                   "segment, so a new customer's segment must wait for their first purchases.")
    out["predicts"] = bool(predicts)
    out["margin"] = float(margin)
    out["verdict"] = verdict
    return out


def _tree_rules(model: SignupModel) -> list[str]:
    """The tree's leaves as sentences: "If Income > 61,250 and ... → persona"."""
    t = model.tree
    if not t:
        return []
    out: list[str] = []

    def words(conditions: dict) -> list[str]:
        said = []
        for label, cond in conditions.items():
            if isinstance(cond, list):
                said += cond
                continue
            low, high = cond
            if low is not None and high is not None:
                said.append(f"{_number(low)} < {label} ≤ {_number(high)}")
            elif high is not None:
                said.append(f"{label} ≤ {_number(high)}")
            else:
                said.append(f"{label} > {_number(low)}")
        return said

    def walk(node: int, conditions: dict) -> None:
        left, right = t["children_left"][node], t["children_right"][node]
        if left == -1:
            value = np.asarray(t["value"][node], dtype=float)
            segment = model.classes[int(value.argmax())]
            share = value.max() / value.sum() if value.sum() > 0 else 0.0
            name = model.persona_names.get(segment, f"Segment {segment}")
            said = words(conditions)
            head = f"If {' and '.join(said)}" if said else "Always"
            out.append(f"{head} → {name} ({share:.0%} of these customers)")
            return
        column = model.columns[t["feature"][node]]
        threshold = t["threshold"][node]
        if "=" in column and column.split("=", 1)[0] in model.categories:
            col, level = column.split("=", 1)
            said = conditions.get(col, [])
            walk(left, {**conditions, col: said + [f"{col} is not {level}"]})
            walk(right, {**conditions, col: said + [f"{col} is {level}"]})
        else:
            label = model.labels.get(column, column)
            low, high = conditions.get(label, (None, None))
            walk(left, {**conditions, label: (low, threshold)})
            walk(right, {**conditions, label: (threshold, high)})

    walk(0, {})
    return out


def _number(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _source_fill(dataset, variables, chosen) -> dict[str, object]:
    """Median (numbers) or most frequent value (text) of each raw column behind the features."""
    out: dict[str, object] = {}
    for f in chosen:
        for col in (variables[f].sources if f in variables else ()):
            series = dataset.frame[col]
            if pd.api.types.is_numeric_dtype(series.dtype):
                med = series.median()
                out[col] = float(med) if pd.notna(med) else 0.0
            elif pd.api.types.is_datetime64_any_dtype(series.dtype):
                continue
            else:
                mode = series.dropna().astype(str).mode()
                out[col] = str(mode.iloc[0]) if len(mode) else "unknown"
    return out


# ---------------------------------------------------------------------- new customers
def _signup_frame(dataset, model: SignupModel) -> pd.DataFrame:
    """The sign-up variables of a dataset's customers, derived as at training.

    Raw columns are filled with the saved values, age comes from the saved
    reference year, and numeric variables are held to the training range.
    """
    everything = catalogue(model.roles)
    numeric = [f for f in model.features if f not in model.categories]
    variables = {f: everything[f] for f in numeric if f in everything}
    present = set(dataset.frame.columns)
    lacking = [f for f in model.features
               if (f in model.categories and f not in present)
               or (f in variables and not all(s in present for s in variables[f].sources))
               or (f not in model.categories and f not in variables)]
    if lacking:
        raise SegmentationError(
            f"The new file lacks the columns behind {', '.join(lacking)}: export it with the "
            "same columns as the file that was segmented."
        )
    sources = list(dict.fromkeys(s for v in variables.values() for s in v.sources))
    base = dataset.frame[sources].copy()
    for col in sources:
        if base[col].isna().any() and col in model.source_fill:
            base[col] = base[col].fillna(model.source_fill[col])
    if "age" in variables:
        base = base.assign(age=age_from(base, variables, model.reference_year))
    frame = derive(base, variables)
    for f in numeric:
        low, high = model.bounds[f]
        frame[f] = frame[f].fillna(model.fill[f]).clip(low, high)
    for f in model.categories:
        frame[f] = dataset.frame[f]
    return frame[list(model.features)]


def predict_file(source, bundle) -> pd.DataFrame:
    """Predict the segment of every customer in a new file from their sign-up data.

    ``bundle`` is a bundle file path, its bytes, its parsed JSON, a
    :class:`segmentation.export.bundle.Bundle` from :func:`segmentation.export.bundle.load_bundle`,
    or a :class:`SignupModel`.
    """
    from segmentation.data.customer_file import RawTable, read_table
    from segmentation.data.dataset import load_dataset
    from segmentation.export.assignments import assignment_table

    model = _signup_of(bundle)
    raw = source if isinstance(source, RawTable) else read_table(source)
    roles = {c: r for c, r in model.roles.items() if c in raw.frame.columns}
    id_column = model.id_column if model.id_column in raw.frame.columns else None
    dataset = load_dataset(raw, roles=roles, id_column=id_column)
    frame = _signup_frame(dataset, model)
    predicted = model.predict(frame)
    # Every input line, in the one assignments schema; lines not predicted say why.
    out = assignment_table(dataset, predicted["customer_id"], predicted["segment"],
                           model.persona_names, dropped=dataset.dropped,
                           extra={"probability": predicted["probability"].to_numpy(dtype=float)})
    out.attrs["warnings"] = _unseen_categories(model, frame)
    return out


def _unseen_categories(model: SignupModel, frame: pd.DataFrame) -> tuple[str, ...]:
    """One warning per category whose new values were never seen in training: those
    customers match none of its levels, so their prediction rests on the other variables."""
    out = []
    for f, levels in model.categories.items():
        values = frame[f].dropna().astype(str)
        unseen = values[~values.isin(levels)]
        if len(unseen):
            examples = ", ".join(repr(v) for v in unseen.unique()[:3])
            out.append(f"{len(unseen):,} customers have a {f} never seen in training "
                       f"({examples}): their prediction rests on the other sign-up variables.")
    return tuple(out)


NO_SIGNUP = ("This bundle has no sign-up model: write a predict-ready one with 'python -m "
             "segmentation run FILE --out FOLDER --signup', or save it from the Plan page with "
             "\"Save the segmentation with this sign-up model\".")


def _signup_of(bundle) -> SignupModel:
    """The sign-up model of whatever form of bundle :func:`predict_file` was given."""
    if isinstance(bundle, SignupModel):
        return bundle
    if isinstance(bundle, dict):
        return _model_from_bundle(bundle)
    if isinstance(bundle, str | Path | bytes | bytearray):
        return _model_from_bundle(read_bundle_json(bundle))
    signup = getattr(bundle, "signup", None)  # a loaded Bundle
    if isinstance(signup, SignupModel):
        return signup
    raise SegmentationError(NO_SIGNUP)


def _add_to_bundle(bundle_json: dict, model: SignupModel) -> dict:
    """A copy of a bundle's JSON with the sign-up model stored under the key ``"signup"``.

    To write a new bundle with its sign-up model, pass ``signup=`` to
    :func:`segmentation.export.bundle.bundle_bytes` or :func:`segmentation.export.bundle.write_bundle`.
    """
    if not isinstance(bundle_json, dict):
        raise SegmentationError(
            "This is not a segmentation bundle: pass the parsed bundle.json of a segmentation."
        )
    return {**bundle_json, BUNDLE_KEY: model.to_dict()}


def signup_from_json(data: dict, persona_names: dict[int, str],
                     what: str = "The bundle's sign-up model") -> SignupModel:
    """A bundle's ``"signup"`` JSON as a model, named with the bundle's persona names.

    The bundle's names win: they are the ones the user last edited, while the
    sign-up model keeps the names it was trained with.
    """
    model = SignupModel.from_dict(data, what=what)
    merged = {**model.persona_names, **{s: n for s, n in persona_names.items()
                                        if s in model.persona_names}}
    return SignupModel(**{**model.__dict__, "persona_names": merged})


def _model_from_bundle(bundle_json: dict) -> SignupModel:
    """The sign-up model kept in a bundle, with the bundle's persona names.

    A whole bundle (with its model) is checked against the bundle schema; the
    small bundle :func:`_add_to_bundle` makes around a bare sign-up model only
    against the sign-up schema.
    """
    if not isinstance(bundle_json, dict) or bundle_json.get("format") != BUNDLE_FORMAT:
        raise SegmentationError(
            "This is not a segmentation bundle: pass the bundle.json of a segmentation."
        )
    data = bundle_json.get(BUNDLE_KEY)
    if data is None:
        raise SegmentationError(NO_SIGNUP)
    names: dict[int, str] = {}
    if "model" in bundle_json:
        checked = check_bundle(bundle_json)
        names = {p.segment: p.name for p in checked.model.personas}
    return signup_from_json(data, names)
