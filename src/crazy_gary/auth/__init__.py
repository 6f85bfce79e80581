"""Accounts: registration, sign-in, tokens and the current-user dependencies."""
