"""Health, metrics, request/error logs, alerts and incidents."""
