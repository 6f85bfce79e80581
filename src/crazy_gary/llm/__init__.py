"""Model client: calls to gpt-oss-120b / gpt-oss-20b (`from crazy_gary.llm import service`)."""

from crazy_gary.llm.types import ChatChunk, ChatResult, ToolCall, Usage

__all__ = ["ChatChunk", "ChatResult", "ToolCall", "Usage"]
