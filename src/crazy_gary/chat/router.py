"""Chat routes: POST /api/chat (one agent turn)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from crazy_gary.auth.dependencies import CurrentUser, SettingsDep
from crazy_gary.chat import service
from crazy_gary.chat.schemas import ChatRequest, ChatResponse
from crazy_gary.chat.streaming import stream_turn
from crazy_gary.db import SessionDep
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.sse import SSEResponse

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses=error_responses(400, 401, 429, 503))
async def chat(body: ChatRequest, user: CurrentUser, session: SessionDep,
               settings: SettingsDep) -> ChatResponse:
    """Run one agent turn (tools allowed, bounded time); the turn is recorded as a task."""
    turn = await service.open_turn(session, user_id=user.id, body=body, settings=settings,
                                   enqueue=True)
    done = await service.wait_for_answer(turn.task_id, within=settings.chat_timeout_seconds + 15)
    return ChatResponse(response=done.answer or "", task_id=turn.task_id,
                        conversation_id=turn.conversation_id)


@router.post("/chat/stream", response_model=None,
             response_class=StreamingResponse,  # documentation only: no JSON body
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "Server-Sent Events: `start`, `token`*, "
                                             "`done` | `error`, each with JSON `data`"},
                        **error_responses(400, 401, 429)})
async def chat_stream(body: ChatRequest, user: CurrentUser, session: SessionDep,
                      settings: SettingsDep) -> SSEResponse:
    """The answer token by token over Server-Sent Events: `start`, `token`*, `done` | `error`.

    No tools in a streamed turn; it is recorded as a chat task all the same.
    """
    turn = await service.open_turn(session, user_id=user.id, body=body, settings=settings,
                                   enqueue=False)
    return SSEResponse(stream_turn(turn.task_id, turn.conversation_id, settings))
