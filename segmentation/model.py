"""A saved segmentation model, and assigning new customers with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .assignments import STATUS_SEGMENTED, assignment_table
from .dataset import load_dataset
from .errors import SegmentationError
from .features import FeatureMatrix, Preparation, transform
from .io import RawTable, read_table
from .jsonfile import read_json

MODEL_FORMAT = "segmentation-model"
MODEL_VERSION = 1


@dataclass(frozen=True)
class Model:
    """Preparation, segment centres (scaled space) and persona names."""

    preparation: Preparation
    centers: np.ndarray
    persona_names: dict[int, str]

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        """Build a model from parsed JSON, refusing anything damaged or inconsistent."""
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise SegmentationError(
                "This is not a segmentation model file: pass the model.json written by "
                "'python -m segmentation run'."
            )
        try:
            version = int(data.get("version"))
        except (TypeError, ValueError):
            raise _damaged() from None
        if version < 1:
            raise _damaged()
        if version > MODEL_VERSION:
            raise SegmentationError(
                f"The model file is version {version}, newer than this tool reads "
                f"({MODEL_VERSION}): upgrade the tool."
            )
        try:
            prep = Preparation.from_dict(data["preparation"])
            centers = np.asarray(data["centers"], dtype=float)
            names = {int(p["segment"]): str(p["name"]) for p in data["personas"]}
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _damaged() from None
        _check_consistent(prep, centers, names)
        return cls(preparation=prep, centers=centers, persona_names=names)


def _damaged() -> SegmentationError:
    return SegmentationError(
        "The model file is incomplete or damaged: run the segmentation again to write a new one."
    )


def _check_consistent(prep: Preparation, centers: np.ndarray, names: dict[int, str]) -> None:
    """Every array has one entry per feature, every number is finite, every name is known."""
    n = len(prep.features)
    if centers.ndim != 2 or centers.shape[1] != n:
        raise SegmentationError(
            "The model file's centres do not match its variables: write a new model."
        )
    if (not isinstance(prep.roles, dict) or n == 0
            or any(len(v) != n for v in (prep.center, prep.scale, prep.weights))
            or centers.shape[0] < 2
            or not np.isfinite(centers).all()
            or not np.isfinite(np.asarray(prep.center + prep.scale + prep.weights, float)).all()
            or min(prep.scale) <= 0 or min(prep.weights) <= 0
            or set(names) != set(range(centers.shape[0]))):
        raise _damaged()
    known = set(prep.variables()) | {f"{a}+{b}" for a, b in prep.composites}
    if not set(prep.features) <= known or not set(prep.log_features) <= set(prep.features):
        raise _damaged()


def load_model(path: str | Path) -> Model:
    """Read a ``model.json`` written by :func:`segmentation.export.write_outputs`."""
    data = read_json(path, "the model", "pass the model.json written by a run")
    if not isinstance(data, dict):
        raise SegmentationError(f"{str(path)!r} is not a model file: pass a model.json.")
    return Model.from_dict(data)


def assign(fm: FeatureMatrix, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre for every row of ``fm.X``; returns labels and distances."""
    d2 = ((fm.X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    return labels, np.sqrt(d2[np.arange(len(labels)), labels])


@dataclass(frozen=True)
class Scores:
    """New customers assigned to saved segments, and the rows that could not be.

    ``assignments`` has a row for every input line (see :mod:`segmentation.assignments`);
    ``segmented`` only the lines that got a segment.
    """

    assignments: pd.DataFrame
    rows_read: int
    dropped: dict[str, int]
    warnings: tuple[str, ...] = ()

    @property
    def segmented(self) -> pd.DataFrame:
        """The customers assigned: ``customer_id``, ``segment`` (int), ``persona``, ``distance``."""
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
    labels, distances = assign(fm, model.centers)
    # Every input line, in the one assignments schema; lines not scored say why.
    assignments = assignment_table(
        raw, dataset, fm.customer_ids.astype(str), labels, model.persona_names,
        excluded=fm.report.excluded_ids, dropped=fm.report.dropped,
        extra={"distance": np.asarray(distances, dtype=float)})
    return Scores(assignments=assignments, rows_read=fm.report.rows_read,
                  dropped=dict(fm.report.dropped), warnings=fm.report.warnings)
