"""Development-only helpers (tests, local runs); never deployed."""
