"""Durable file writes: a reader sees either no file or the whole file, never a part."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist), write ``data`` and fsync it.

    Raises:
        FileExistsError: If ``path`` already exists.
    """
    _write_and_sync(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), data)


def replace_file(source: Path, target: Path) -> None:
    """Atomically rename ``source`` over ``target`` and make the rename durable."""
    os.replace(source, target)
    _fsync_directory(target.parent)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    The temporary file is fsynced and renamed over ``path``, so a crash leaves either
    the old file or the new one. The temporary file is removed if anything fails.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary_path = Path(temporary)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; other readers (pickup, agency) need read
        _write_and_sync(fd, data)
        replace_file(temporary_path, path)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise


def _write_and_sync(fd: int, data: bytes) -> None:
    """Write ``data`` to the open descriptor ``fd``, fsync and close it."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry change (a rename) to disk where the OS allows it."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
