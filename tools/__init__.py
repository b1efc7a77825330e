"""Project tooling: driving the running app in a real browser."""
