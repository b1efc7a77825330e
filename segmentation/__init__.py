"""Customer personality segmentation: from a CRM export to named, profiled segments.

The engine behind the studio app and the ``python -m segmentation`` command
line. It never imports streamlit or plotting libraries; every stage is a
function taking and returning plain data.
"""

__version__ = "0.1.0"

from .clustering import KSweep, Segmentation, segment, sweep_k  # noqa: E402
from .dataset import Dataset, load_dataset  # noqa: E402
from .errors import SegmentationError  # noqa: E402
from .features import FeatureMatrix, PrepConfig, prepare, transform  # noqa: E402
from .io import RawTable, read_table  # noqa: E402
from .model import Model, load_model, score  # noqa: E402
from .personas import Persona, suggest_personas  # noqa: E402
from .pipeline import RunConfig, SegmentationResult, run  # noqa: E402
from .profiles import Profiles, profile_segments  # noqa: E402
from .roles import Role, detect_roles  # noqa: E402

__all__ = [
    "Dataset", "FeatureMatrix", "KSweep", "Model", "Persona", "PrepConfig", "Profiles",
    "RawTable", "Role", "RunConfig", "Segmentation", "SegmentationError",
    "SegmentationResult", "detect_roles", "load_dataset", "load_model", "prepare",
    "profile_segments", "read_table", "run", "score", "segment", "suggest_personas",
    "sweep_k", "transform",
]
