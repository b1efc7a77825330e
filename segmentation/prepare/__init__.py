"""Preparation: the variables a run can use, missing values, outliers, derived variables, scaling."""
