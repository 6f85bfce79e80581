"""Metrics, traces and their read-outs."""
