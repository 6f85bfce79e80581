"""Crazy Gary: a self-hostable backend for autonomous AI agents."""
__version__ = "1.0.0"
