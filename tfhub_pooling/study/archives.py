"""A module archive (.tar, .tar.gz), from a local file or streaming from a server, unpacked
into a directory with every member checked before its bytes are written.

One mechanism for both: the member's name stays inside the directory (tensorflow_hub's
merge_relative_path; a leading `/` is dropped, as GNU tar and tensorflow_hub do, so an
absolute name unpacks inside too), it is a regular file or a directory (no link, no
device), and the
sizes the headers declare, summed as they stream, stay under MAX_UNPACKED_BYTES and the
cache's free space. tensorflow_hub's own extract_file writes each member; its
atomic_download around this removes the temp directory and the lock whatever happens,
so a refused archive leaves nothing in the cache.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tarfile
import time
import zlib
from typing import BinaryIO

from tensorflow_hub import file_utils as hub_file_utils
from tensorflow_hub import resolver as hub_resolver

from tfhub_pooling.errors import CannotWriteError, NotAModuleError

# The largest BERT-family modules (bert-large, 24 layers) unpack to 1.3 GB.
MAX_UNPACKED_BYTES = 8 << 30
GZIP_MAGIC = b"\x1f\x8b"


class Stream:
    """A file object read once, front to back: counts its bytes, keeps its first ones (to
    say what a server sent instead of an archive), and shows progress on a terminal."""

    HEAD = 512

    def __init__(self, fileobj: BinaryIO, source: str, total: int | None, progress: bool):
        from tqdm import tqdm

        self.fileobj, self.source, self.total, self.progress = fileobj, source, total, progress
        self.read_bytes, self.head = 0, b""
        self.started = time.monotonic()
        self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
                        desc=f"fetching {source}", disable=not progress)

    def read(self, n: int = -1) -> bytes:
        data = self.fileobj.read(n)
        if len(self.head) < self.HEAD:
            self.head += data[: self.HEAD - len(self.head)]
        self.read_bytes += len(data)
        self.bar.update(len(data))
        return data

    def close(self) -> None:
        self.bar.close()

    def say_done(self) -> None:
        """Where no bar was shown (a pipe, a CI log), one line once the fetch is done."""
        if not self.progress:
            print(f"fetched {self.source}: {self.read_bytes / 2**20:,.1f} MiB in "
                  f"{time.monotonic() - self.started:.1f} s", file=sys.stderr)

    def what_came(self) -> str:
        """What the first bytes were, where they made no archive."""
        head = self.head.lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
            return "an HTML or XML page (a sign-in, consent or error page?)"
        if not self.head:
            return "nothing (an empty answer)"
        if self.head[:2] == GZIP_MAGIC:
            return f"a gzip stream that ends after {self.read_bytes:,} bytes or is damaged (a truncated download?)"
        return f"{self.read_bytes:,} bytes that are neither gzip nor tar"


def unpack(stream: Stream, dst: str) -> None:
    """Unpacks the archive stream into dst (tensorflow_hub's temp directory), member by member."""
    free = shutil.disk_usage(dst).free
    total = 0
    try:
        with tarfile.open(mode="r|*", fileobj=stream) as tar:
            for member in tar:
                path = _member_path(stream.source, dst, member)
                if member.isdir():
                    os.makedirs(path, exist_ok=True)
                    continue
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise NotAModuleError(
                        f"{stream.source} would unpack to more than {MAX_UNPACKED_BYTES >> 30} GiB (member "
                        f"{member.name} alone declares {member.size / 2**30:,.1f} GiB); no BERT module is that "
                        "large, so it was refused before the member's bytes were written")
                if total > free:
                    raise CannotWriteError(f"{stream.source} unpacks to at least {total / 2**20:,.0f} MiB and "
                                           f"TFHUB_CACHE_DIR={hub_resolver.tfhub_cache_dir(use_temp=True)} has "
                                           f"{free / 2**20:,.0f} MiB free; free some, or set TFHUB_CACHE_DIR to "
                                           "a directory with more space")
                # `tar czf m.tgz $(find . -type f)` records no directories; extract_file makes none.
                os.makedirs(os.path.dirname(path), exist_ok=True)
                hub_file_utils.extract_file(tar, member, path)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
        raise NotAModuleError(f"{stream.source} is no module archive: it holds {stream.what_came()}; check the "
                              "handle, and fetch or pack the module again") from None
    finally:
        stream.close()


def _member_path(source: str, dst: str, member: tarfile.TarInfo) -> str:
    kind = ("a symlink" if member.issym() else "a hard link" if member.islnk() else
            "a device" if member.isdev() else "a FIFO" if member.isfifo() else None)
    if kind is None and not (member.isfile() or member.isdir()):
        kind = f"an entry of tar type {member.type!r}"
    if kind is not None:
        raise NotAModuleError(f"{source} holds an unsafe member {member.name!r} ({kind}); a module archive "
                              "holds files and directories only, so it was refused and nothing of it kept")
    try:
        return hub_file_utils.merge_relative_path(dst, member.name)
    except ValueError:
        raise NotAModuleError(f"{source} holds an unsafe member {member.name!r}, which leads out of the module; "
                              "it was refused and nothing of it kept") from None
