"""Streamlit glue: session state, cached engine calls, chart builders."""
