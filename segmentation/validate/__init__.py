"""Validation: are the segments real (stability), and how customers moved between runs."""
