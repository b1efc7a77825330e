"""The choices for missing values, implausible values and scaling, by name.

Kept apart from :mod:`segmentation.prepare.features` so that the command line can list
them in ``--help`` without importing pandas.
"""

MISSING_POLICIES = ("impute", "drop")
OUTLIER_POLICIES = ("clip", "keep", "exclude")
SCALINGS = ("zscore", "robust", "log")
