"""The run history: every segmentation recorded in one SQLite file, and its trends and alerts."""
