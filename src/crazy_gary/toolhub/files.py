"""Workspace file operations behind /api/workspace: upload, archive import, list, delete.

Archives are checked entry by entry before anything lands in the workspace:
names that escape the root, links, devices and other special entries refuse the
whole archive; sizes are counted while extracting (declared sizes can lie), so
a bomb stops at the limit. Extraction goes to a staging directory first, so a
refused archive leaves the workspace untouched.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crazy_gary.config import Settings
from crazy_gary.errors import NotFound, PayloadTooLarge, ValidationFailed
from crazy_gary.kit.clock import iso
from crazy_gary.toolhub.workspace import (
    clean_relative,
    current_settings,
    resolve_in_workspace,
    workspace_root,
)

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_archive_bytes: int
    max_files: int
    max_total_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Limits:
        s = settings or current_settings()
        return cls(s.workspace_max_upload_bytes, s.workspace_max_archive_bytes,
                   s.workspace_max_archive_files, s.workspace_max_extracted_bytes)


def describe(user_id: int | str, path: Path) -> dict[str, Any]:
    info = path.stat()
    return {"path": path.relative_to(workspace_root(user_id)).as_posix(), "size": info.st_size,
            "modified": iso(datetime.fromtimestamp(info.st_mtime, UTC))}


def _copy_limited(src: IO[bytes], dest: Path, limit: int, what: str) -> int:
    written = 0
    with dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise PayloadTooLarge(f"{what} is larger than the limit of {limit} bytes")
            out.write(chunk)
    return written


def _staging(user_id: int | str) -> Path:
    workspace_root(user_id)
    base = current_settings().workspaces_dir / ".staging"
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{user_id}-{uuid.uuid4().hex}"
    path.mkdir()
    return path


def save_upload(user_id: int | str, source: IO[bytes], path: str, *,
                limits: Limits | None = None) -> dict[str, Any]:
    """Store one uploaded file at `path` (relative to the workspace), replacing any old one."""
    target = resolve_in_workspace(user_id, path)
    if target == workspace_root(user_id) or target.is_dir():
        raise ValidationFailed(f"path is a directory: {path}")
    limits = limits or Limits.from_settings()
    staging = _staging(user_id)
    try:
        tmp = staging / "upload"
        _copy_limited(source, tmp, limits.max_file_bytes, "The file")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return describe(user_id, target)


def list_files(user_id: int | str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Every regular file under the workspace (or a sub-directory), sorted by path."""
    start = resolve_in_workspace(user_id, prefix or ".")
    if not start.exists():
        return []
    if start.is_file():
        return [describe(user_id, start)]
    files = []
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            entry = Path(dirpath) / name
            if entry.is_symlink() or not entry.is_file():
                continue
            files.append(describe(user_id, entry))
    files.sort(key=lambda f: f["path"])
    return files


def file_for_download(user_id: int | str, path: str) -> Path:
    target = resolve_in_workspace(user_id, path, must_exist=True)
    if not target.is_file():
        raise NotFound(f"No such file in the workspace: {path}")
    return target


def delete(user_id: int | str, path: str) -> None:
    """Delete a file or a directory (recursively); the workspace root itself cannot go."""
    root = workspace_root(user_id)
    rel = clean_relative(path)
    unresolved = root / rel
    if unresolved == root:
        raise ValidationFailed("the workspace root cannot be deleted")
    if unresolved.is_symlink():  # delete the link itself, never its target
        unresolved.unlink()
        return
    target = resolve_in_workspace(user_id, path, must_exist=True)
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()


# archives -----------------------------------------------------------------------------------
@dataclass
class _Entry:
    name: str
    is_dir: bool
    size: int
    open: Any  # () -> binary file object


def _check_name(raw: str, problems: list[str]) -> str | None:
    name = raw.replace("\\", "/")
    try:
        rel = clean_relative(name)
    except ValidationFailed as exc:
        problems.append(f"{raw}: {exc.message}")
        return None
    return None if rel.as_posix() == "." else rel.as_posix()


def _zip_entries(archive: zipfile.ZipFile, problems: list[str]) -> Iterator[_Entry]:
    for info in archive.infolist():
        mode = info.external_attr >> 16
        name = _check_name(info.filename, problems)
        if name is None:
            continue
        if stat.S_ISLNK(mode):
            problems.append(f"{info.filename}: links are not allowed")
            continue
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            problems.append(f"{info.filename}: special files are not allowed")
            continue
        yield _Entry(name, info.is_dir(), info.file_size,
                     lambda info=info: archive.open(info))


def _tar_entries(archive: tarfile.TarFile, problems: list[str]) -> Iterator[_Entry]:
    for member in archive.getmembers():
        name = _check_name(member.name, problems)
        if name is None:
            continue
        if member.issym() or member.islnk():
            problems.append(f"{member.name}: links are not allowed")
            continue
        if not (member.isfile() or member.isdir()):
            problems.append(f"{member.name}: devices and special files are not allowed")
            continue
        yield _Entry(name, member.isdir(), member.size,
                     lambda member=member: archive.extractfile(member))


def _open_archive(path: Path) -> tuple[Any, str]:
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path), "zip"
    try:
        return tarfile.open(path, mode="r:*"), "tar"
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValidationFailed("the file is not a zip or tar archive") from exc


def import_archive(user_id: int | str, source: IO[bytes], target_dir: str | None = None, *,
                   limits: Limits | None = None) -> dict[str, Any]:
    """Unpack a zip or tar (optionally compressed) into the workspace, all or nothing."""
    limits = limits or Limits.from_settings()
    destination = resolve_in_workspace(user_id, target_dir or ".")
    if destination.exists() and not destination.is_dir():
        raise ValidationFailed(f"not a directory: {target_dir}")
    staging = _staging(user_id)
    try:
        archive_path = staging / "archive"
        _copy_limited(source, archive_path, limits.max_archive_bytes, "The archive")
        tree = staging / "tree"
        tree.mkdir()
        names = _extract(archive_path, tree, limits)
        destination.mkdir(parents=True, exist_ok=True)
        files = []
        for name in names:
            final = resolve_in_workspace(user_id, (destination / name).relative_to(
                workspace_root(user_id)).as_posix())
            if final.is_dir():
                shutil.rmtree(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tree / name, final)
            files.append(describe(user_id, final))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"imported": len(files), "bytes": sum(f["size"] for f in files), "files": files}


def _extract(archive_path: Path, tree: Path, limits: Limits) -> list[str]:
    archive, _kind = _open_archive(archive_path)
    with archive:
        problems: list[str] = []
        try:
            entries = list(_zip_entries(archive, problems) if isinstance(archive, zipfile.ZipFile)
                           else _tar_entries(archive, problems))
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise ValidationFailed(f"the archive is damaged: {exc}") from exc
        if problems:
            raise ValidationFailed(problems[:50], message="The archive contains refused entries")
        files = [e for e in entries if not e.is_dir]
        if len(files) > limits.max_files:
            raise ValidationFailed(f"the archive has {len(files)} files; the limit is "
                                   f"{limits.max_files}")
        if sum(e.size for e in files) > limits.max_total_bytes:
            raise PayloadTooLarge(f"the archive unpacks to more than {limits.max_total_bytes} "
                                  "bytes")
        total, names = 0, []
        for entry in entries:
            dest = tree / entry.name
            if entry.is_dir:
                dest.mkdir(parents=True, exist_ok=True)
                continue
            if dest.is_dir():
                raise ValidationFailed(f"{entry.name}: a file and a directory share this name")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with entry.open() as src:
                    total += _copy_limited(src, dest, min(limits.max_file_bytes,
                                                          limits.max_total_bytes - total),
                                           f"{entry.name} (unpacked)")
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
                raise ValidationFailed(f"{entry.name}: cannot be unpacked ({exc})") from exc
            except RuntimeError as exc:  # encrypted zip entries
                raise ValidationFailed(f"{entry.name}: {exc}") from exc
            if entry.name not in names:
                names.append(entry.name)
        return names
