"""Workspace file operations behind /api/workspace: upload, archive import, list, delete.

Archives are checked entry by entry before anything lands in the workspace:
names that escape the root, links, devices and other special entries refuse the
whole archive; sizes are counted while extracting (declared sizes can lie), so
a bomb stops at the limit. Extraction goes to a staging directory first, so a
refused archive leaves the workspace untouched.

Every write counts against the user's quota (toolhub/quota.py): an archive's declared
unpacked size is checked before anything is extracted, the bytes actually unpacked are
bounded by the room left, and the final move into the workspace is admitted under the
user's quota lock.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crazy_gary.config import Settings
from crazy_gary.errors import NotFound, PayloadTooLarge, ValidationFailed
from crazy_gary.kit.clock import iso
from crazy_gary.toolhub import quota
from crazy_gary.toolhub.workspace import (
    clean_relative,
    current_settings,
    relative_name,
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
    _check_parents(user_id, [target])
    _stage_and_admit(user_id, target,
                     lambda tmp: _copy_limited(source, tmp, limits.max_file_bytes, "The file"))
    return describe(user_id, target)


def write_produced(user_id: int | str, target: Path, produce: Callable[[Path], object]) -> int:
    """Write a file the service makes (a tool's output) at `target`, a path from
    `resolve_in_workspace`: `produce` writes it to a staging file, which replaces the
    target only if it fits the quota. The bytes written."""
    if target == workspace_root(user_id) or target.is_dir():
        raise ValidationFailed(f"is a directory: {relative_name(user_id, target)}")
    _check_parents(user_id, [target])

    def fill(tmp: Path) -> int:
        produce(tmp)
        return tmp.stat().st_size

    return _stage_and_admit(user_id, target, fill)


def _stage_and_admit(user_id: int | str, target: Path, fill: Callable[[Path], int]) -> int:
    """`fill` writes a staging file (returning its size), which replaces `target` only if it
    fits the user's quota; the staging directory is removed either way. The size."""
    staging = _staging(user_id)
    try:
        tmp = staging / "file"
        size = fill(tmp)

        def commit() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)

        quota.admit(user_id, size, [target], commit)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return size


def _check_parents(user_id: int | str, targets: list[Path]) -> None:
    """Refuse targets below an existing file (``a.txt/b``) before anything is written."""
    root = workspace_root(user_id)
    problems = []
    for target in targets:
        for parent in target.relative_to(root).parents:
            if parent.as_posix() != "." and (root / parent).is_file():
                problems.append(f"{target.relative_to(root).as_posix()}: "
                                f"{parent.as_posix()} is a file, not a directory")
                break
    if problems:
        raise ValidationFailed(problems[:50])


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


def _open_archive(path: Path) -> zipfile.ZipFile | tarfile.TarFile:
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path)
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValidationFailed("the file is not a zip or tar archive") from exc


def import_archive(user_id: int | str, source: IO[bytes], target_dir: str | None = None, *,
                   limits: Limits | None = None) -> dict[str, Any]:
    """Unpack a zip or tar (optionally compressed) into the workspace, all or nothing."""
    limits = limits or Limits.from_settings()
    destination = resolve_in_workspace(user_id, target_dir or ".")
    if destination.exists() and not destination.is_dir():
        raise ValidationFailed(f"not a directory: {target_dir}")
    root = workspace_root(user_id)
    staging = _staging(user_id)
    try:
        archive_path = staging / "archive"
        _copy_limited(source, archive_path, limits.max_archive_bytes, "The archive")
        tree = staging / "tree"
        tree.mkdir()
        with _open_archive(archive_path) as archive:
            entries = _checked_entries(archive, limits)
            names = [e.name for e in entries]
            finals = [resolve_in_workspace(
                user_id, (destination / name).relative_to(root).as_posix()) for name in names]
            _check_parents(user_id, finals)
            conflicts = [f.relative_to(root).as_posix() for f in finals if f.is_dir()]
            if conflicts:
                raise ValidationFailed(
                    [f"{c}: a directory of that name exists" for c in conflicts[:50]],
                    message="The archive would replace directories")
            declared = sum(e.size for e in entries)
            quota.check(user_id, declared, finals)  # before anything is unpacked
            room = quota.room(user_id)
            allowance = limits.max_total_bytes
            if room is not None and room + quota.replaced_bytes(finals) < allowance:
                allowance = room + quota.replaced_bytes(finals)
            total = _extract(entries, tree, limits, allowance,
                             quota_bound=allowance < limits.max_total_bytes)
        files: list[dict[str, Any]] = []

        def commit() -> None:
            for name, final in zip(names, finals, strict=True):
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tree / name, final)
                files.append(describe(user_id, final))

        quota.admit(user_id, total, finals, commit)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"imported": len(files), "bytes": sum(f["size"] for f in files), "files": files}


def _checked_entries(archive: zipfile.ZipFile | tarfile.TarFile, limits: Limits) -> list[_Entry]:
    """The files to unpack, once per name, after every check that needs no unpacking."""
    problems: list[str] = []
    try:
        listed = list(_zip_entries(archive, problems) if isinstance(archive, zipfile.ZipFile)
                      else _tar_entries(archive, problems))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValidationFailed(f"the archive is damaged: {exc}") from exc
    if problems:
        raise ValidationFailed(problems[:50], message="The archive contains refused entries")
    by_name: dict[str, _Entry] = {}  # a file named twice: the last copy wins
    for entry in listed:
        if not entry.is_dir:
            by_name.pop(entry.name, None)
            by_name[entry.name] = entry
    files = list(by_name.values())
    directories = {e.name for e in listed if e.is_dir}
    for e in files:
        directories.update(p.as_posix() for p in Path(e.name).parents if p.as_posix() != ".")
    clashes = sorted(e.name for e in files if e.name in directories)
    if clashes:
        raise ValidationFailed([f"{name}: a file and a directory share this name"
                                for name in clashes[:50]],
                               message="The archive has a file and a directory of the same name")
    if len(files) > limits.max_files:
        raise ValidationFailed(f"the archive has {len(files)} files; the limit is "
                               f"{limits.max_files}")
    if sum(e.size for e in files) > limits.max_total_bytes:
        raise PayloadTooLarge(f"the archive unpacks to more than {limits.max_total_bytes} "
                              "bytes")
    return files


def _extract(entries: list[_Entry], tree: Path, limits: Limits, allowance: int, *,
             quota_bound: bool) -> int:
    """Unpack the files into `tree`, counting real bytes (headers can lie): at most
    `allowance` in all (the quota's room when `quota_bound`). The bytes unpacked."""
    total = 0
    for entry in entries:
        dest = tree / entry.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        by_quota = quota_bound and allowance - total < limits.max_file_bytes
        limit = min(limits.max_file_bytes, allowance - total)
        try:
            with entry.open() as src:
                total += _copy_limited(src, dest, limit, f"{entry.name} (unpacked)")
        except PayloadTooLarge:
            if by_quota:
                raise quota.QuotaExceeded(
                    f"Workspace quota exceeded: {entry.name} unpacks past the "
                    f"{quota.quota_bytes()}-byte quota; nothing was imported") from None
            raise
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise ValidationFailed(f"{entry.name}: cannot be unpacked ({exc})") from exc
        except RuntimeError as exc:  # encrypted zip entries
            raise ValidationFailed(f"{entry.name}: {exc}") from exc
    return total
