"""A saved segmentation: model, settings, persona names and strategies, data fingerprint.

The bundle is one JSON file. Opened with the same data and settings it
restores the same segments and names exactly (the run is deterministic);
with other data its persona records are matched to the new segments by
profile (see :mod:`segmentation.describe.carry_names`), and its model can assign new
customers without re-clustering (see :func:`segmentation.cluster.model.score`).
A bundle may also carry a sign-up model under the key ``"signup"``, which
predicts the segment of a customer who has no purchases yet (see
:mod:`segmentation.plan.signup`); such a bundle is what ``predict`` reads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from segmentation.cluster.model import Model
from segmentation.config import DEFAULT_METHOD
from segmentation.data._bounded_json import read_json
from segmentation.describe.carry_names import PersonaRecord
from segmentation.describe.personas import EDITABLE_FIELDS, Persona
from segmentation.errors import SegmentationError
from segmentation.export.formats import BUNDLE_FORMAT, BUNDLE_VERSION
from segmentation.export.outputs import _json_default, _versions, assignments_frame, model_dict
from segmentation.pipeline import RunConfig, SegmentationResult
from segmentation.prepare.features import PrepConfig

if TYPE_CHECKING:  # signup.py reads bundles, so it is imported here only when needed
    from segmentation.export.schemas import BundleSchema
    from segmentation.plan.signup import SignupModel

BUNDLE_INDENT = 1  # one space per level: readable, yet a million ids add only a megabyte
# The depth of the assignment lists in the bundle: bundle → "assignments" → each list.
_ASSIGNMENTS_DEPTH = 2
# Items encoded per write of the assignment lists, so no string holds all of them.
_BLOCK_ITEMS = 100_000


@dataclass(frozen=True)
class Bundle:
    """A segmentation as saved: enough to restore it, compare with it, or score with it."""

    config: RunConfig
    model: Model
    records: tuple[PersonaRecord, ...]
    assignments: pd.DataFrame  # customer_id, segment, persona
    fingerprint: str
    data_name: str
    created: str
    signup: SignupModel | None = None  # predicts new customers' segments at sign-up

    def persona_names(self) -> dict[int, str]:
        return dict(self.model.persona_names)


def _config_to_dict(config: RunConfig) -> dict:
    out = asdict(config)
    out["prep"]["features"] = (list(config.prep.features)
                               if config.prep.features is not None else None)
    if config.method == DEFAULT_METHOD:
        del out["method"]  # a k-means bundle stays as it was
    if config.strata is None:
        del out["strata"]  # a bundle without strata reads as it always has
    return out


def _config_from_dict(data: dict) -> RunConfig:
    """The :class:`RunConfig` of a bundle's validated ``settings`` (lists become tuples)."""
    data = dict(data)
    prep = dict(data.pop("prep"))
    prep["features"] = tuple(prep["features"]) if prep.get("features") is not None else None
    prep["weights"] = tuple((str(f), float(w)) for f, w in prep.get("weights", ()))
    prep["composites"] = tuple((str(a), str(b)) for a, b in prep.get("composites", ()))
    prep["labels"] = tuple((str(c), str(v)) for c, v in prep.get("labels", ()))
    data["roles"] = tuple((str(c), str(r)) for c, r in data.get("roles", ()))
    data["log_map"] = tuple((str(f), str(c)) for f, c in data.get("log_map", ()))
    return RunConfig(prep=PrepConfig(**prep), **data)


def _bundle_dict(result: SegmentationResult, personas: tuple[Persona, ...],
                signup: SignupModel | None = None) -> dict:
    """The bundle of a run, with the personas as the user left them (names, strategies).

    ``config.k`` is the K actually used, so reopening gives the same segments
    even if the recommendation rule changes. ``signup``, a model from
    :func:`segmentation.plan.signup.train`, is kept under the key ``"signup"``.
    """
    # Within strata K is each stratum's own: the settings keep the user's choice.
    config = replace(result.config, k=result.chosen_k if result.strata is None
                     else result.config.k)
    model = model_dict(result)
    model["personas"] = [{"segment": p.segment, "name": p.name} for p in personas]
    z = result.profiles.z
    records = [
        PersonaRecord(
            signature={str(k): float(v) for k, v in z.loc[p.segment].items() if pd.notna(v)},
            fields={f: str(getattr(p, f)) for f in EDITABLE_FIELDS},
        ).to_dict()
        for p in personas
    ]
    names = {p.segment: p.name for p in personas}
    assignments = assignments_frame(result).assign(persona=lambda f: f["segment"].map(names))
    out = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {"name": result.raw.name, "fingerprint": result.raw.fingerprint,
                 "rows_read": result.features.report.rows_read},
        "settings": _config_to_dict(config),
        "model": model,
        "personas": records,
        "assignments": {"customer_id": assignments["customer_id"].tolist(),
                        "segment": assignments["segment"].astype(int).tolist()},
        "versions": _versions(),
    }
    if signup is not None:
        out["signup"] = signup.to_dict()
    return out


def bundle_bytes(result: SegmentationResult, personas: tuple[Persona, ...],
                 signup: SignupModel | None = None) -> bytes:
    """The bundle file's content, as :func:`write_bundle` writes it.

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona
        The personas as the user left them (names, strategies).
    signup : SignupModel, optional
        A sign-up model to keep in the bundle, which makes it ready for
        :func:`segmentation.plan.signup.predict_file` and ``python -m segmentation predict``.
    """
    try:
        return json.dumps(_bundle_dict(result, personas, signup), indent=BUNDLE_INDENT,
                          allow_nan=False,
                          default=_json_default).encode("utf-8")
    except ValueError:
        raise _not_storable() from None


def write_bundle(result: SegmentationResult, personas: tuple[Persona, ...],
                 path: str | Path, signup: SignupModel | None = None) -> Path:
    """Write the bundle file to ``path`` (see :func:`bundle_bytes` for the arguments)."""
    path = Path(path)
    try:
        # Streamed: a million customers' assignments would otherwise be held twice more
        # in memory, as one string and as its bytes.
        with path.open("w", encoding="utf-8") as handle:
            _dump(_bundle_dict(result, personas, signup), handle)
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write the bundle {str(path)!r} ({exc.strerror}): choose another place."
        ) from None
    except ValueError:
        path.unlink(missing_ok=True)  # half a bundle must not be mistaken for one
        raise _not_storable() from None
    return path


def _dump(data: dict, handle) -> None:
    """``json.dump(data, handle, indent=1, ...)``, byte for byte, but fast for the
    assignments.

    The json module's indented encoder is pure Python, item by item: about 8 s for a
    million customers' two lists. Here everything else is encoded as json.dump would,
    and the two lists (whole numbers and text, nothing nested) are spliced in, each item
    encoded by the C encoder, in json.dump's layout. Anything else falls back to it.
    """
    lists = data.get("assignments", {})
    markers = {key: f"\x00{key}\x00" for key in lists}
    text = json.dumps({**data, "assignments": markers}, indent=BUNDLE_INDENT,
                      allow_nan=False, default=_json_default)
    quoted = [json.dumps(m) for m in markers.values()]
    encoders = [_item_encoder(values) for values in lists.values()]
    if not lists or None in encoders or any(text.count(q) != 1 for q in quoted):
        json.dump(data, handle, indent=BUNDLE_INDENT, allow_nan=False, default=_json_default)
        return
    for values, marker, encode in zip(lists.values(), quoted, encoders, strict=True):
        head, _, text = text.partition(marker)
        handle.write(head)
        _write_list(handle, values, encode, _ASSIGNMENTS_DEPTH + 1)
    handle.write(text)


def _item_encoder(values: list):
    """The C encoding of every item when all are text or all whole numbers; else None."""
    if all(type(v) is str for v in values):
        return json.encoder.encode_basestring_ascii  # json.dump's default, ensure_ascii
    if all(type(v) is int for v in values):
        return int.__repr__
    return None


def _write_list(handle, values: list, encode, level: int) -> None:
    """A list of scalars at depth ``level`` as ``json.dump(indent=...)`` lays it out."""
    if not values:
        handle.write("[]")
        return
    newline = "\n" + " " * (BUNDLE_INDENT * level)
    separator = "," + newline
    handle.write("[")
    for start in range(0, len(values), _BLOCK_ITEMS):
        handle.write(separator if start else newline)
        handle.write(separator.join(map(encode, values[start:start + _BLOCK_ITEMS])))
    handle.write("\n" + " " * (BUNDLE_INDENT * (level - 1)) + "]")


def _not_storable() -> SegmentationError:
    # JSON has no NaN or infinity, and a bundle holding one could not be opened again.
    return SegmentationError(
        "The segmentation holds a figure that is not a number (NaN or infinity), so no bundle "
        "was written: leave out the variable with no values, or train the sign-up model on "
        "other variables.")


NOT_A_BUNDLE = ("This is not a segmentation bundle: open the bundle.json saved from the app or "
                "written by 'python -m segmentation run'.")
REMEDY = "save the segmentation again from the app or with 'python -m segmentation run'"


def read_bundle_json(source: bytes | str | Path) -> dict:
    """A bundle file's JSON (from a path or bytes), refused unless it is a bundle."""
    data = read_json(source, "the bundle", "open the bundle.json saved from the app or "
                     "written by 'python -m segmentation run'")
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise SegmentationError(NOT_A_BUNDLE)
    return data


def check_bundle(data: dict, what: str = "The bundle") -> BundleSchema:
    """The bundle's JSON checked against :class:`segmentation.export.schemas.BundleSchema`."""
    # pydantic is loaded by the first file read back, never by a run that only writes.
    from segmentation.export.schemas import BundleSchema, check_header, validate

    check_header(data, BUNDLE_FORMAT, BUNDLE_VERSION, NOT_A_BUNDLE, what)
    return validate(BundleSchema, data, what, REMEDY)


def load_bundle(source: bytes | str | Path) -> Bundle:
    """Read a bundle written by :func:`write_bundle` or downloaded from the app.

    Every field is checked against the declared schema first (types, shapes,
    finite numbers, ranges); anything else is refused with one sentence. A
    sign-up model kept in the bundle comes back as :attr:`Bundle.signup`.
    """
    data = read_bundle_json(source)
    what = Path(source).name if isinstance(source, str | Path) else "The bundle"
    checked = check_bundle(data, what)
    model = Model.from_dict(data["model"], what=f"{what} (its model)")
    config = _config_from_dict(checked.settings.model_dump())
    records = tuple(PersonaRecord.from_dict(r.model_dump()) for r in checked.personas)
    assignments = pd.DataFrame({
        "customer_id": [str(c) for c in checked.assignments.customer_id],
        "segment": list(checked.assignments.segment),
    })
    assignments["persona"] = assignments["segment"].map(model.persona_names)
    signup = None
    if checked.signup is not None:
        from segmentation.plan.signup import signup_from_json

        signup = signup_from_json(data["signup"], model.persona_names,
                                  what=f"{what} (its sign-up model)")
    return Bundle(config=config, model=model, records=records, assignments=assignments,
                  fingerprint=checked.data.fingerprint, data_name=checked.data.name,
                  created=checked.created, signup=signup)
