"""Model endpoints: status records and lifecycle (wake, sleep, auto-sleep)."""
