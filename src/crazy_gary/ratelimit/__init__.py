"""Per-user (per-address before sign-in, and per email for login) moving-window limits by
endpoint group."""
