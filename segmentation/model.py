"""A saved segmentation model, and assigning new customers with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import load_dataset
from .errors import SegmentationError
from .features import FeatureMatrix, Preparation, transform
from .io import RawTable, read_table

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
        if data.get("format") != MODEL_FORMAT:
            raise SegmentationError(
                "This is not a segmentation model file: pass the model.json written by "
                "'python -m segmentation run'."
            )
        if int(data.get("version", 0)) > MODEL_VERSION:
            raise SegmentationError(
                f"The model file is version {data.get('version')}, newer than this tool "
                f"reads ({MODEL_VERSION}): upgrade the tool."
            )
        try:
            prep = Preparation.from_dict(data["preparation"])
            centers = np.asarray(data["centers"], dtype=float)
            names = {int(p["segment"]): str(p["name"]) for p in data["personas"]}
        except (KeyError, TypeError, ValueError):
            raise SegmentationError(
                "The model file is incomplete or damaged: run the segmentation again to "
                "write a new one."
            ) from None
        if centers.ndim != 2 or centers.shape[1] != len(prep.features):
            raise SegmentationError(
                "The model file's centres do not match its variables: write a new model."
            )
        return cls(preparation=prep, centers=centers, persona_names=names)


def load_model(path: str | Path) -> Model:
    """Read a ``model.json`` written by :func:`segmentation.export.write_outputs`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SegmentationError(
            f"Cannot open the model {str(path)!r} ({exc.strerror}): check the path."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SegmentationError(
            f"{str(path)!r} is not valid JSON: pass the model.json written by a run."
        ) from None
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
    """New customers assigned to saved segments, and the rows that could not be."""

    assignments: pd.DataFrame
    rows_read: int
    dropped: dict[str, int]


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
    assignments = pd.DataFrame({
        "customer_id": pd.Series(fm.customer_ids.astype(str), dtype=object),
        "segment": labels,
        "persona": [model.persona_names.get(int(s), f"Segment {s}") for s in labels],
        "distance": distances,
    })
    return Scores(assignments=assignments, rows_read=fm.report.rows_read,
                  dropped=dict(fm.report.dropped))
