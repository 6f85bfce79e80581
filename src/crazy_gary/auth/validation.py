"""Input checks shared by registration and user administration."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalize_email(raw: str) -> tuple[str | None, list[str]]:
    """Lower-cased, syntax-checked email (no DNS look-up), or the problems with it."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return None, [f"email: {exc}"]
    return result.normalized.lower(), []
