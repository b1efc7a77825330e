"""Persona names belong to a segment's profile, not to its label number.

A user's edits are kept as records: the segment's standardized profile (its
signature) and the fields the user typed. On every new segmentation (other
variables, K, seed, a reload, next quarter's data) the segments are matched
to the records by profile, and the names go with the matching segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.describe.personas import EDITABLE_FIELDS, Persona, apply_edits
from segmentation.validate.stability import SAME_SEGMENT_RMS, SegmentMatch, match_segments


@dataclass(frozen=True)
class PersonaRecord:
    """What the user wrote about one segment, and the profile it was written for."""

    signature: dict[str, float]
    fields: dict[str, str]

    def to_dict(self) -> dict:
        return {"signature": dict(self.signature), "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: dict) -> PersonaRecord:
        return cls(signature={str(k): float(v) for k, v in data["signature"].items()},
                   fields={str(k): str(v) for k, v in data["fields"].items()
                           if k in EDITABLE_FIELDS})


@dataclass(frozen=True)
class CarriedOver:
    """Personas with the user's edits carried over, and how segments matched the records."""

    personas: tuple[Persona, ...]
    match: SegmentMatch  # segment -> record index
    vanished_names: tuple[str, ...]  # named records with no segment in this run


def _signatures(z: pd.DataFrame) -> pd.DataFrame:
    return z.astype(float).replace([np.inf, -np.inf], np.nan)


def carry_over(personas: tuple[Persona, ...], z: pd.DataFrame,
               records: tuple[PersonaRecord, ...],
               threshold: float = SAME_SEGMENT_RMS) -> CarriedOver:
    """Lay each record's fields over the segment whose profile matches it.

    Parameters
    ----------
    personas : tuple of Persona
        The engine's suggestions for this segmentation.
    z : DataFrame
        Segments × variables standardized profile (``Profiles.z``).
    records : tuple of PersonaRecord
    threshold : float
        Largest root-mean-square profile gap at which a segment still counts
        as the record's segment.
    """
    if not records:
        empty = SegmentMatch(pairs={}, distances={}, new_unmatched=tuple(z.index), vanished=())
        return CarriedOver(personas=personas, match=empty, vanished_names=())
    previous = pd.DataFrame([r.signature for r in records])
    m = match_segments(previous, _signatures(z), threshold)
    edits = {seg: records[idx].fields for seg, idx in m.pairs.items()}
    vanished = tuple(records[i].fields["name"] for i in m.vanished if "name" in records[i].fields)
    return CarriedOver(personas=apply_edits(personas, edits), match=m, vanished_names=vanished)


def record_edit(records: tuple[PersonaRecord, ...], z: pd.DataFrame, segment: int,
                changes: dict[str, str],
                threshold: float = SAME_SEGMENT_RMS) -> tuple[PersonaRecord, ...]:
    """Records after the user edits fields of ``segment`` in the segmentation described by ``z``.

    The segment's record (if it has one) takes the new fields and the
    segment's current profile; otherwise a new record is added.
    """
    changes = {f: str(v) for f, v in changes.items() if f in EDITABLE_FIELDS}
    signature = {str(k): float(v) for k, v in _signatures(z).loc[segment].items()
                 if np.isfinite(v)}
    out = list(records)
    if records:
        m = match_segments(pd.DataFrame([r.signature for r in records]), _signatures(z), threshold)
        idx = m.pairs.get(segment)
        if idx is not None:
            out[idx] = PersonaRecord(signature=signature, fields={**records[idx].fields, **changes})
            return tuple(out)
    return (*out, PersonaRecord(signature=signature, fields=changes))
