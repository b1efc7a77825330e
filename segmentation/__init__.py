"""Customer personality segmentation: from a CRM export to named, profiled segments.

The engine behind the studio app and the ``python -m segmentation`` command
line. It never imports streamlit or plotting libraries; every stage is a
function taking and returning plain data.
"""

from ._version import __version__ as __version__  # the alias keeps it public outside __all__
from .clustering import KSweep, Segmentation, segment, sweep_k
from .dataset import Dataset, load_dataset
from .errors import SegmentationError
from .features import FeatureMatrix, PrepConfig, prepare, transform
from .io import RawTable, read_table
from .model import Model, load_model, score
from .personas import Persona, suggest_personas
from .pipeline import RunConfig, SegmentationResult, run
from .profiles import Profiles, profile_segments
from .roles import Role, detect_roles

__all__ = [
    "Dataset", "FeatureMatrix", "KSweep", "Model", "Persona", "PrepConfig", "Profiles",
    "RawTable", "Role", "RunConfig", "Segmentation", "SegmentationError",
    "SegmentationResult", "detect_roles", "load_dataset", "load_model", "prepare",
    "profile_segments", "read_table", "run", "score", "segment", "suggest_personas",
    "sweep_k", "transform",
]
