"""Usage and quotas: a ledger of every model and tool call, monthly counters, per-user
limits (429 QUOTA_EXCEEDED), the `quota_warning` event and GET /api/usage."""
