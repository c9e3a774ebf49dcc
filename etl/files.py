"""The one way this project writes a file: to a temporary file beside it, then renamed over it, so
that a reader (or a kill at any moment) sees the old bytes or the new ones, never a mix. A file that
is replaced keeps its permissions; a new one gets the usual ones (0666 less the umask)."""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .problems import CommandError

TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp\Z")  # the name of a temporary file of write_atomically's


def write_atomically(path: Path, content: bytes | Callable[[BinaryIO], object], sync: bool = False, like: Path | None = None) -> None:
    """Replace `path` with `content` (bytes, or a function that writes to a binary stream), with the
    permissions of `like` (default: `path`) where it exists. With `sync`, the bytes and the rename are
    on disk when it returns."""
    temporary = write_beside(path, content, sync, like)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if sync:
        fsync_folder(path.parent)


def write_beside(path: Path, content: bytes | Callable[[BinaryIO], object], sync: bool = False, like: Path | None = None) -> Path:
    """A new temporary file beside `path` (named so that `is_temporary` knows it) holding `content`,
    with the permissions of `like` (default: `path`) where it exists; on disk when `sync`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(like or path)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content)
            if sync:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def regular_file_bytes(path: Path | str, limit: int | None = None) -> bytes | None:
    """A regular file's bytes, read without following a link or waiting on a pipe; None for a link,
    a folder, a pipe, a device, an unreadable file, or one larger than `limit`."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return stream.read() if limit is None else stream.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(handle)


def through_link(root: Path, path: Path) -> Path | None:
    """The first folder or file from `root` down to `path` that is a symbolic link, if any: what
    etl writes, deletes or reads as raw input must lie inside the project without following one."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def is_temporary(name: str) -> bool:
    """Whether a file name is one of write_atomically's temporary files (left by a killed writer)."""
    return TEMPORARY.match(name) is not None


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold the project's lock while the block runs; refuse at once when another command holds it.
    The lock file is opened without following a link, so that a link cannot make it elsewhere."""
    try:
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as error:
        raise CommandError(f"cannot open the lock file {lock_file.name} ({error.strerror})") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError("another etl command is changing this project (a build, fmt, new or import); "
                               "wait for it to finish and try again") from None
        yield
    finally:
        os.close(descriptor)


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, text.encode("utf-8"))


def fsync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
