"""A saved segmentation model, and assigning new customers with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.cluster.kmeans import assign  # noqa: F401  k-means' rule, importable here
from segmentation.cluster.methods import NO_CLEAR_SEGMENT, NOISE, SCORING_RULES, assign_with
from segmentation.cluster.strata import Strata, assign_within_strata
from segmentation.data._bounded_json import read_json
from segmentation.data.customer_file import RawTable, read_table
from segmentation.data.dataset import load_dataset
from segmentation.describe.contributions import customer_drivers
from segmentation.errors import SegmentationError
from segmentation.export.assignments import STATUS_SEGMENTED, assignment_table
from segmentation.export.formats import MODEL_FORMAT, MODEL_VERSION
from segmentation.prepare.features import Preparation, transform

NOT_A_MODEL = ("This is not a segmentation model file: pass the model.json written by "
               "'python -m segmentation run'.")
REMEDY = "write a new one with 'python -m segmentation run'"


@dataclass(frozen=True)
class Model:
    """Preparation, segment centres (scaled space) and persona names.

    ``strata``, for segments found within strata, places each customer in a stratum
    first; the centres are then each in their stratum's space.
    """

    preparation: Preparation
    centers: np.ndarray
    persona_names: dict[int, str]
    strata: Strata | None = None
    method: str = "kmeans"  # the method's scoring rule assigns new customers
    params: dict = field(default_factory=dict)  # what that rule needs beyond the centres

    @property
    def rule(self) -> str:
        """How this model assigns a new customer, in words."""
        return SCORING_RULES[self.method]

    @classmethod
    def from_dict(cls, data: dict, what: str = "The model file") -> Model:
        """Build a model from parsed JSON, refusing anything damaged or inconsistent.

        ``what`` names the file in the message ("model.json"); the checks are the
        declared :class:`segmentation.export.schemas.ModelSchema`.
        """
        # pydantic is loaded by the first file read back, never by a run that only writes.
        from segmentation.export.schemas import ModelSchema, check_header, validate

        check_header(data, MODEL_FORMAT, MODEL_VERSION, NOT_A_MODEL, what)
        checked = validate(ModelSchema, data, what, REMEDY)
        return cls(preparation=Preparation.from_dict(checked.preparation.model_dump()),
                   centers=np.asarray(checked.centers, dtype=float),
                   persona_names={p.segment: p.name for p in checked.personas},
                   method=checked.method,
                   params=checked.method_params.model_dump(exclude_none=True),
                   strata=(Strata.from_dict(checked.strata.model_dump())
                           if checked.strata is not None else None))


def load_model(path: str | Path) -> Model:
    """Read a ``model.json`` written by :func:`segmentation.export.outputs.write_outputs`."""
    data = read_json(path, "the model", "pass the model.json written by a run")
    if not isinstance(data, dict):
        raise SegmentationError(f"{str(path)!r} is not a model file: pass a model.json.")
    return Model.from_dict(data, what=Path(path).name)


@dataclass(frozen=True)
class Scores:
    """New customers assigned to saved segments, and the rows that could not be.

    ``assignments`` has a row for every input line (see :mod:`segmentation.export.assignments`);
    ``segmented`` only the lines that got a segment.
    """

    assignments: pd.DataFrame
    rows_read: int
    dropped: dict[str, int]
    warnings: tuple[str, ...] = ()
    rule: str = ""  # how the customers were assigned, said when the method is not k-means

    @property
    def segmented(self) -> pd.DataFrame:
        """The customers assigned: ``customer_id``, ``segment`` (int), ``persona``, ``distance``
        and the drivers (``top_driver_1``, ``top_driver_2``)."""
        rows = self.assignments[self.assignments["status"] == STATUS_SEGMENTED]
        return rows.drop(columns=["status", "reason", "line"]).astype(
            {"segment": int}).reset_index(drop=True)


def score(source: bytes | str | Path | RawTable, model: Model, name: str | None = None) -> Scores:
    """Assign the customers of a new file to a saved model's segments.

    The file is prepared exactly as the model's training data was (same
    roles, imputation values, outlier bounds, scaler); nothing is refitted.
    """
    raw = source if isinstance(source, RawTable) else read_table(source, name=name)
    prep = model.preparation
    roles = {c: r for c, r in prep.roles.items() if c in raw.frame.columns}
    id_column = prep.id_column if prep.id_column in raw.frame.columns else None
    dataset = load_dataset(raw, roles=roles, id_column=id_column)
    fm = transform(dataset, prep)
    excluded, dropped = dict(fm.report.excluded_ids), dict(fm.report.dropped)
    ids = fm.customer_ids.astype(str)
    if model.strata is None:
        labels, distances = assign_with(model.method, fm.X, model.centers, model.params)
        for cid in ids[labels == NOISE]:
            # In no segment by the method's own rule: listed with the reason, and counted.
            excluded[cid] = NO_CLEAR_SEGMENT
            dropped[NO_CLEAR_SEGMENT] = dropped.get(NO_CLEAR_SEGMENT, 0) + 1
    else:
        labels, distances = _assign_strata(dataset, fm, model)
        # A customer with no stratum is counted under its reason, never dropped silently.
        reasons = model.strata.reasons()
        for cid, code in zip(ids[labels < 0], _codes(dataset, fm, model)[labels < 0],
                             strict=True):
            excluded[cid] = reasons[int(code)]
            dropped[reasons[int(code)]] = dropped.get(reasons[int(code)], 0) + 1
    keep = labels >= 0
    drivers = customer_drivers(fm, labels, model.centers, model.strata)
    extra = {"distance": np.asarray(distances[keep], dtype=float),
             **{column: values[keep] for column, values in drivers.items()}}
    labels, ids = labels[keep], ids[keep]
    if model.strata is not None:
        strata = model.strata
        extra["stratum"] = [strata.labels[strata.segments[s]] for s in labels]
    # Every input line, in the one assignments schema; lines not scored say why.
    assignments = assignment_table(dataset, ids, labels, model.persona_names,
                                   excluded=excluded, dropped=dropped, extra=extra)
    return Scores(assignments=assignments, rows_read=fm.report.rows_read,
                  dropped=dropped, warnings=fm.report.warnings,
                  rule="" if model.method == "kmeans" else model.rule)


def _codes(dataset, fm, model: Model) -> np.ndarray:
    """The stratum of each prepared customer, by the model's saved cut-offs or values."""
    column = model.strata.column
    if column not in dataset.frame.columns:
        raise SegmentationError(
            f"The new file lacks {column!r}, the column the model's strata are cut on: export "
            "it with the same columns as the file the model was built on.")
    return model.strata.codes(dataset.frame[column].reindex(fm.customer_ids))


def _assign_strata(dataset, fm, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's stratum, then the nearest centre within it (-1 without a stratum)."""
    return assign_within_strata(fm.X, _codes(dataset, fm, model), model.centers,
                                model.strata, fm.preparation.weights)
