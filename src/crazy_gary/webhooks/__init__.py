"""Signed webhooks: users subscribe URLs to events; each event is delivered durably
(at least once, retried with backoff, Standard Webhooks signatures)."""
