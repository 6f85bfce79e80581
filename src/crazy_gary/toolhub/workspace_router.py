"""/api/workspace: the signed-in user's files (upload, archive import, list, get, delete)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute

from crazy_gary import runtime
from crazy_gary.auth.dependencies import CurrentUser, SettingsDep, SignedIn
from crazy_gary.errors import AppError, PayloadTooLarge, ValidationFailed
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.toolhub import files
from crazy_gary.toolhub.schemas import ImportResult, WorkspaceFile
from crazy_gary.toolhub.workspace import MAX_PATH_CHARS

MULTIPART_OVERHEAD = 64 * 1024
_signed_in = SignedIn()
PathField = Annotated[str, Path(max_length=MAX_PATH_CHARS, description="Path in the workspace")]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
# Upload endpoints and the settings attribute that caps each one's body.
_UPLOAD_LIMITS: dict[Callable[..., Any], str] = {}


def upload_limit(setting: str) -> Callable[[Endpoint], Endpoint]:
    """Mark an upload route with the settings attribute that caps its body."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _UPLOAD_LIMITS[endpoint] = setting
        return endpoint

    return mark


class WorkspaceRoute(APIRoute):
    """Upload routes check the caller and the declared length against their limit before
    the form is read (its file part is spooled to disk as it arrives; FastAPI would read it
    before resolving any dependency), and read it with tight part counts; FastAPI then
    validates the `file` and `path` parameters from that same parsed form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        setting = _UPLOAD_LIMITS.get(self.endpoint)
        if setting is None:
            return handler

        async def read_form_first(request: Request) -> Response:
            # Strangers get nothing spooled (the endpoint's own CurrentUser then comes from
            # the user cache).
            await _signed_in(request)
            limit = getattr(runtime.of(request).settings, setting)
            declared = request.headers.get("content-length")
            if declared is None or not declared.isdigit():
                # The declared length bounds what the server reads (and spools) for the form.
                raise AppError("Content-Length is required for uploads", code="LENGTH_REQUIRED",
                               status_code=411)
            if int(declared) > limit + MULTIPART_OVERHEAD:
                raise PayloadTooLarge(f"Upload larger than the limit of {limit} bytes")
            try:
                await request.form(max_files=1, max_fields=5)  # kept for the handler
            except Exception as exc:  # malformed multipart bodies
                detail = getattr(exc, "detail", exc)
                raise ValidationFailed(
                    f"expected a multipart form with a 'file' part: {detail}") from None
            return await handler(request)

        return read_form_first


router = APIRouter(prefix="/api/workspace", tags=["workspace"], route_class=WorkspaceRoute)
UploadPart = Annotated[UploadFile, File(description="The file's content")]


@router.post("/files", status_code=201, response_model=WorkspaceFile,
             responses=error_responses(411))
@upload_limit("workspace_max_upload_bytes")
async def upload_file(
    user: CurrentUser, settings: SettingsDep, file: UploadPart,
    path: Annotated[str | None, Form(
        max_length=MAX_PATH_CHARS,
        description="Where to store it (default: the file's own name); a path ending in `/` "
                    "is a directory to store it in under its own name")] = None,
) -> dict[str, Any]:
    """Upload one file (multipart `file`; optional `path`, default the file's own name)."""
    path = path if path and path.strip() else None
    target = path or file.filename
    if not target:
        raise ValidationFailed("path: give a path or a file name")
    if path and path.endswith("/") and file.filename:
        target = path + file.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return await asyncio.to_thread(files.save_upload, user.id, file.file, target,
                                   limits=files.Limits.from_settings(settings))


@router.post("/import", status_code=201, response_model=ImportResult,
             responses=error_responses(411))
@upload_limit("workspace_max_archive_bytes")
async def import_archive(
    user: CurrentUser, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A zip or tar (.tar, .tar.gz, .tgz) archive")],
    path: Annotated[str | None, Form(max_length=MAX_PATH_CHARS,
                                     description="Directory to unpack into")] = None,
) -> dict[str, Any]:
    """Unpack a zip or tar archive (multipart `file`; optional target directory `path`)."""
    path = path if path and path.strip() else None
    return await asyncio.to_thread(files.import_archive, user.id, file.file, path,
                                   limits=files.Limits.from_settings(settings))


@router.get("/files", response_model=list[WorkspaceFile])
async def list_files(
    request: Request, response: Response, user: CurrentUser, page: PageDep,
    prefix: Annotated[str | None, Query(max_length=MAX_PATH_CHARS,
                                        description="Directory to list")] = None,
) -> list[dict[str, Any]]:
    """Every file of the workspace with size and modification time."""
    found = await asyncio.to_thread(files.list_files, user.id, prefix)
    set_page_headers(request, response, page, len(found))
    return found[page.offset: page.offset + page.limit]


@router.get("/files/{path:path}", response_class=FileResponse,
            responses={200: {"description": "The file's bytes (Content-Type from its name)",
                             "content": {"*/*": {
                                 "schema": {"type": "string", "format": "binary"}}}}})
async def download_file(path: PathField, user: CurrentUser) -> FileResponse:
    """The file's content."""
    target = await asyncio.to_thread(files.file_for_download, user.id, path)
    return FileResponse(target, filename=target.name)


@router.delete("/files/{path:path}", status_code=204)
async def delete_file(path: PathField, user: CurrentUser) -> Response:
    """Delete a file or a directory."""
    await asyncio.to_thread(files.delete, user.id, path)
    return Response(status_code=204)
