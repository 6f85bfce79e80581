"""The one JSON-Schema check of tool parameters (hub tools and heavy tools alike)."""

from __future__ import annotations

from typing import Any

from jsonschema import validators
from jsonschema.exceptions import SchemaError

from crazy_gary.errors import ValidationFailed


def violations(schema: dict[str, Any] | None, instance: Any) -> list[tuple[str, str]]:
    """(where, message) per violation, at most 20; a broken schema checks nothing (a
    server's broken schema is its problem, and the server validates too)."""
    schema = schema or {"type": "object"}
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    except SchemaError:
        return []
    return [(".".join(str(p) for p in err.absolute_path), err.message) for err in errors[:20]]


def schema_errors(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    """One message per violation, prefixed with where it is."""
    return [f"{where}: {message}" if where else message
            for where, message in violations(schema, instance)]


def validate_parameters(schema: dict[str, Any] | None, parameters: Any) -> None:
    """Raise ValidationFailed listing every way `parameters` breaks the tool's schema."""
    if not isinstance(parameters, dict):
        raise ValidationFailed("parameters: must be an object")
    found = violations(schema, parameters)
    if found:
        raise ValidationFailed(
            [f"parameters.{where}: {message}" if where else f"parameters: {message}"
             for where, message in found],
            message="Tool parameters do not match the tool's schema")
