"""/api/workspace: the signed-in user's files (upload, archive import, list, get, delete)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse

from crazy_gary.auth.dependencies import CurrentUser, SettingsDep
from crazy_gary.errors import PayloadTooLarge, ValidationFailed
from crazy_gary.kit.openapi import error_responses
from crazy_gary.kit.pagination import PageDep, set_page_headers
from crazy_gary.toolhub import files
from crazy_gary.toolhub.schemas import ImportResult, WorkspaceFile

router = APIRouter(prefix="/api/workspace", tags=["workspace"], responses=error_responses(401))
MULTIPART_OVERHEAD = 64 * 1024


async def _form_file(request: Request, limit: int) -> tuple[UploadFile, str | None]:
    """The `file` part (and optional `path`) of a multipart body, refusing oversize bodies early."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"Upload larger than the limit of {limit} bytes")
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception as exc:  # malformed multipart bodies
        raise ValidationFailed(f"expected a multipart form with a 'file' part: {exc}") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed("file: a file part named 'file' is required")
    path = form.get("path")
    return upload, path if isinstance(path, str) and path.strip() else None


@router.post("/files", status_code=201, response_model=WorkspaceFile,
             responses=error_responses(400, 413))
async def upload_file(request: Request, user: CurrentUser, settings: SettingsDep):
    """Upload one file (multipart `file`; optional `path`, default the file's own name)."""
    upload, path = await _form_file(request, settings.workspace_max_upload_bytes)
    target = path or upload.filename
    if not target:
        raise ValidationFailed("path: give a path or a file name")
    if path and path.endswith("/") and upload.filename:
        target = path + upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return await asyncio.to_thread(files.save_upload, user.id, upload.file, target,
                                       limits=files.Limits.from_settings(settings))
    finally:
        await upload.close()


@router.post("/import", status_code=201, response_model=ImportResult,
             responses=error_responses(400, 413))
async def import_archive(request: Request, user: CurrentUser, settings: SettingsDep):
    """Unpack a zip or tar archive (multipart `file`; optional target directory `path`)."""
    upload, path = await _form_file(request, settings.workspace_max_archive_bytes)
    try:
        return await asyncio.to_thread(files.import_archive, user.id, upload.file, path,
                                       limits=files.Limits.from_settings(settings))
    finally:
        await upload.close()


@router.get("/files", response_model=list[WorkspaceFile])
async def list_files(
    request: Request, response: Response, user: CurrentUser, page: PageDep,
    prefix: Annotated[str | None, Query(max_length=1000, description="Directory to list")] = None,
):
    """Every file of the workspace with size and modification time."""
    found = await asyncio.to_thread(files.list_files, user.id, prefix)
    set_page_headers(request, response, page, len(found))
    return found[page.offset: page.offset + page.limit]


@router.get("/files/{path:path}", response_class=FileResponse,
            responses={**error_responses(400, 404), 200: {"description": "The file's bytes"}})
async def download_file(path: str, user: CurrentUser):
    """The file's content."""
    target = await asyncio.to_thread(files.file_for_download, user.id, path)
    return FileResponse(target, filename=target.name)


@router.delete("/files/{path:path}", status_code=204, responses=error_responses(400, 404))
async def delete_file(path: str, user: CurrentUser) -> Response:
    """Delete a file or a directory."""
    await asyncio.to_thread(files.delete, user.id, path)
    return Response(status_code=204)
