"""Files and directories written whole or not at all: each is made beside its
destination and renamed into place, so an interrupted or failed write leaves
nothing, and of two processes making the same directory, one rename wins."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from tfhub_pooling.errors import CannotWriteError, UsageError


def cannot_write(path: str, e: OSError) -> CannotWriteError:
    """One line for a failed write, naming the place and what to do."""
    if e.errno == errno.ENOSPC or "No space left on device" in str(e):
        return CannotWriteError(f"no space left on the device while writing {path}; free some, "
                                "or choose a place on another disk")
    reason = e.strerror or str(e)
    return CannotWriteError(f"cannot write {path} ({reason}); choose a writable place")


def _name_max(directory: str) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _temp_prefix(name: str) -> str:
    """A temp name's prefix beside `name`, short enough that a name of the file system's
    longest length still leaves room for it."""
    return f".{name[:100]}."


def check_writable_file(path: str, option: str) -> None:
    """Before any work starts: can a file be written at path?

    A character device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written
    through; any other existing thing that is not a regular file is refused, never
    replaced. A symlink is followed to the file it names.
    """
    if not path:
        raise UsageError(f"{option} is empty; give a file name")
    if path.endswith(os.sep) or os.path.basename(path) in (".", ".."):
        raise UsageError(f"{option} {path} names a directory; give a file name")
    if os.path.islink(path) and not os.path.exists(path):
        raise UsageError(f"{option} {path} is a symlink to {os.readlink(path)}, which does not exist; "
                         "remove the link or give another name")
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise UsageError(f"{option} {path} is a directory; give a file name")
    if os.path.exists(target):
        mode = os.stat(target).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            return
        if not stat.S_ISREG(mode):
            raise UsageError(f"{option} {path} exists and is no regular file (a socket or block device); "
                             "give a file name")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {option} {path}: its directory does not exist")
    name_max = _name_max(directory)
    if len(os.fsencode(os.path.basename(target))) > name_max:
        raise UsageError(f"{option} {path}: the file name is longer than the {name_max} bytes "
                         "the file system allows; give a shorter one")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CannotWriteError(f"cannot write {option} {path}: {directory} is not writable")


def write_file(path: str, write: Callable[[BinaryIO], None], option: str = "the output") -> None:
    """write(f) fills a temp file beside path, which then replaces path; a character
    device or FIFO at path is written through instead, never replaced."""
    check_writable_file(path, option)
    target = os.path.realpath(path)
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        _write_through(target, path, write)
        return
    directory = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(os.path.basename(target)), dir=directory)
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        # mkstemp makes the file 0600; give it the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as e:
        os.unlink(tmp)
        raise cannot_write(path, e) from None
    except BaseException:
        os.unlink(tmp)
        raise


def _write_through(target: str, path: str, write: Callable[[BinaryIO], None]) -> None:
    """A character device or FIFO, opened for writing as it is, and given the file whole
    once it is made: writers may seek (zip does), and a failed one sends nothing. A FIFO
    nobody reads is refused rather than waited on."""
    with tempfile.TemporaryFile() as made:
        write(made)
        made.seek(0)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno == errno.ENXIO:
                raise UsageError(f"{path} is a FIFO that nobody is reading; start its reader first") from None
            raise cannot_write(path, e) from None
        os.set_blocking(fd, True)
        try:
            with os.fdopen(fd, "wb") as f:
                shutil.copyfileobj(made, f)
        except OSError as e:
            raise cannot_write(path, e) from None


def check_new_directory(dest: str) -> None:
    """Before a build starts: can a directory be made at dest?"""
    if os.path.islink(dest.rstrip(os.sep)) and not os.path.exists(dest):
        raise UsageError(f"{dest} is a symlink to {os.readlink(dest.rstrip(os.sep))}, which does not "
                         "exist; remove the link or choose another directory")
    dest = os.path.abspath(dest)
    parent = os.path.dirname(dest)
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise UsageError(f"cannot make {dest}: a part of its path is a file")
    name_max = _name_max(parent) if os.path.isdir(parent) else 255
    if len(os.fsencode(os.path.basename(dest))) > name_max:
        raise UsageError(f"cannot make {dest}: the name is longer than the {name_max} bytes the file "
                         "system allows; choose a shorter one")


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
        staging = tempfile.mkdtemp(prefix=f"{_staging_prefix(os.path.basename(dest))}{os.getpid()}-", dir=parent)
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


def _staging_prefix(name: str) -> str:
    return f"{_temp_prefix(name)}building-"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        return True
    return True


def sweep(parent: str, stale: Callable[[str], bool]) -> None:
    """Removes the entries of `parent` that `stale` picks by name: what a process killed
    by SIGKILL (or a CI timeout) left behind, since it ran no cleanup of its own. The one
    sweep of builds' staging directories and of tensorflow_hub's download temps."""
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        if stale(entry):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def remove_stale_staging(parent: str, name: str) -> None:
    """Removes `.NAME.building-PID-*` whose process is gone."""
    prefix = _staging_prefix(name)

    def stale(entry: str) -> bool:
        pid = entry[len(prefix):].split("-", 1)[0]
        return entry.startswith(prefix) and pid.isdigit() and not process_alive(int(pid))

    sweep(parent, stale)
