"""Per-user (per-IP before sign-in) moving-window limits by endpoint group."""
