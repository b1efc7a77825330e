"""The names and versions of the file formats the tool writes and reads back.

Kept apart from :mod:`segmentation.export.schemas` so that writing a file needs no
pydantic: only reading one back validates it against the declared schema.
"""

MODEL_FORMAT = "segmentation-model"
BUNDLE_FORMAT = "segmentation-bundle"
SIGNUP_FORMAT = "segmentation-signup"
# Versions of the formats this tool writes and reads; a newer one is refused by
# segmentation.export.schemas.check_header.
MODEL_VERSION = BUNDLE_VERSION = SIGNUP_VERSION = 1
