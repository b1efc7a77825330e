"""Description: segment profiles, persona names, names carried across runs, exploration frames."""
