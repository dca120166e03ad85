"""Files and directories written whole or not at all: each is made beside its
destination and renamed into place, so an interrupted or failed write leaves
nothing, and of two processes making the same directory, one rename wins."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from typing import BinaryIO, Callable

from tfhub_pooling.errors import CannotWriteError, UsageError


def cannot_write(path: str, e: OSError) -> CannotWriteError:
    """One line for a failed write, naming the place and what to do."""
    if e.errno == errno.ENOSPC or "No space left on device" in str(e):
        return CannotWriteError(f"no space left on the device while writing {path}; free some, "
                                "or choose a place on another disk")
    reason = e.strerror or str(e)
    return CannotWriteError(f"cannot write {path} ({reason}); choose a writable place")


def check_writable_file(path: str, option: str) -> None:
    """Before any work starts: can a file be made at path?"""
    if os.path.isdir(path):
        raise UsageError(f"{option} {path} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {option} {path}: its directory does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CannotWriteError(f"cannot write {option} {path}: {directory} is not writable")


def write_file(path: str, write: Callable[[BinaryIO], None]) -> None:
    """write(f) fills a temp file beside path, which then replaces path."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        # mkstemp makes the file 0600; give it the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise cannot_write(path, e) from None
    except BaseException:
        os.unlink(tmp)
        raise


def make_directory(dest: str, make: Callable[[str], None],
                   accept_existing: Callable[[str], bool] = lambda path: False) -> str:
    """make(path) creates and fills the directory `path` (beside dest), renamed to dest.

    accept_existing(dest): when dest appears meanwhile (another process won the
    race), whether what is there will do; if not, the loser gets one line.
    """
    dest = os.path.abspath(dest)
    parent = os.path.dirname(dest)
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.building-{os.getpid()}-", dir=parent)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"cannot make {dest}: a part of its path is a file") from None
    except OSError as e:
        raise cannot_write(dest, e) from None
    try:
        make(os.path.join(staging, "new"))
        try:
            os.rename(os.path.join(staging, "new"), dest)
        except OSError as e:
            if not os.path.exists(dest):
                raise cannot_write(dest, e) from None
            if not accept_existing(dest):
                raise UsageError(f"{dest} was made by another process meanwhile; remove it or "
                                 "choose another directory") from None
    except OSError as e:
        raise cannot_write(dest, e) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        return True
    return True


def remove_stale_staging(parent: str, name: str) -> None:
    """Removes `.NAME.building-PID-*` whose process is gone: a build killed by
    SIGKILL runs no cleanup of its own."""
    prefix = f".{name}.building-"
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        pid = entry[len(prefix):].split("-", 1)[0]
        if entry.startswith(prefix) and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
