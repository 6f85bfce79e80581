"""Password hashing (argon2id) off the event loop."""

from __future__ import annotations

import asyncio
import re

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("timing-equaliser-0")

MIN_LENGTH = 8
MAX_LENGTH = 128


def password_problems(password: str, field: str = "password") -> list[str]:
    """Every reason the password is too weak (empty when it is acceptable), each named by
    the request field it came in."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"{field}: must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"{field}: must be at most {MAX_LENGTH} characters")
    if not re.search(r"[A-Za-z]", password):
        problems.append(f"{field}: must contain a letter")
    if not re.search(r"\d", password):
        problems.append(f"{field}: must contain a digit")
    return problems


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-effort check: an absent hash still costs one verification."""
    target = password_hash or _DUMMY_HASH
    try:
        ok = await asyncio.to_thread(_hasher.verify, password, target)
    except Exception:  # malformed stored hash
        ok = False
    return ok and password_hash is not None
