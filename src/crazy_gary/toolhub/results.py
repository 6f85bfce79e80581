"""Turning MCP call results and schema checks into plain JSON."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import SchemaError
from mcp import types as mcp_types

from crazy_gary.errors import ValidationFailed


def validate_parameters(schema: dict[str, Any], parameters: Any) -> None:
    """Raise ValidationFailed listing every way `parameters` breaks the tool's schema."""
    if not isinstance(parameters, dict):
        raise ValidationFailed("parameters: must be an object")
    schema = schema or {"type": "object"}
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(parameters), key=lambda e: list(e.absolute_path))
    except SchemaError:
        return  # a server's broken schema is its problem; the server validates too
    if errors:
        messages = []
        for err in errors[:20]:
            where = ".".join(str(p) for p in err.absolute_path)
            messages.append(f"parameters.{where}: {err.message}" if where
                            else f"parameters: {err.message}")
        raise ValidationFailed(messages, message="Tool parameters do not match the tool's schema")


def _content_item(item: Any) -> Any:
    if isinstance(item, mcp_types.TextContent):
        return {"type": "text", "text": item.text}
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def text_of(result: mcp_types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))


def result_value(result: mcp_types.CallToolResult) -> Any:
    """Structured content when the tool gives it; else its text (parsed when it is JSON)."""
    if result.structured_content is not None:
        return result.structured_content
    contents = list(result.content or [])
    if contents and all(isinstance(c, mcp_types.TextContent) for c in contents):
        text = text_of(result)
        if len(contents) == 1:
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text
    return {"content": [_content_item(c) for c in contents]}
