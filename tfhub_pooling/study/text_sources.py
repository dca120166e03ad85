"""Where texts come from besides the command line: a UTF-8 file, or generated.

A texts file holds one text a line; a tab splits a line into a sentence pair.
Generated texts are seeded random sentences of whole words from the module's
vocab: varied enough that [CLS] vectors span many directions, which the
black-box recovery needs (recovery.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

from tfhub_pooling.errors import UsageError
from tfhub_pooling.study.texts import Text

STDIN = "-"
# A text is trimmed to 512 tokens or fewer, which a few KB of text fill; a line this long
# is no text, and reading it whole would take memory without end (/dev/zero has no newline).
MAX_LINE_BYTES = 1 << 20


def open_texts(path: str) -> BinaryIO:
    """The texts file, opened before the module is loaded: a FIFO waits here for its
    writer (and says so), not after a minute of loading."""
    if path == STDIN:
        if sys.stdin is None:
            raise UsageError("--texts-file - reads standard input, and standard input is closed; "
                             "pipe the texts in, or name a file")
        return sys.stdin.buffer
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            print(f"note: {path} is a named pipe; waiting for a writer", file=sys.stderr, flush=True)
        return open(path, "rb")
    except OSError as e:
        raise UsageError(f"cannot read texts file {path}: {e.strerror}") from e


def _lines(f: BinaryIO, path: str) -> Iterator[bytes]:
    number = 0
    while raw := f.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise UsageError(f"{path} line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB; "
                             "give one text a line")
        yield raw


def iter_texts_file(path: str, f: BinaryIO | None = None) -> Iterator[tuple[int, Text]]:
    """Yields (line number, text) lazily, so a large file is never held whole in memory.

    path: a file, a pipe, or "-" for standard input. A UTF-8 byte order mark
    before the first line is not part of its text. f: path already opened (open_texts).
    """
    f = f or open_texts(path)
    with contextlib.nullcontext(f) if path == STDIN else f:
        seen = 0
        for number, raw in enumerate(_lines(f, path), start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise UsageError(f"{path} line {number} is not UTF-8 (byte {e.start}); "
                                 "re-encode the file as UTF-8") from None
            if not line.strip():
                continue   # blank lines separate nothing; skip them
            seen += 1
            parts = line.split("\t")
            if len(parts) > 2:
                raise UsageError(f"{path} line {number} has {len(parts) - 1} tabs; "
                                 "use one tab to separate a pair")
            if len(parts) == 2 and not (parts[0].strip() and parts[1].strip()):
                raise UsageError(f"{path} line {number}: one side of the pair is empty")
            yield number, parts[0] if len(parts) == 1 else (parts[0], parts[1])
        if seen == 0:
            raise UsageError(f"{path} holds no texts; give one text a line")


def count_lines(path: str) -> int | None:
    """Lines in a regular file (an upper bound on its texts), for a progress bar's
    total; None for standard input and pipes, which can be read only once."""
    if path == STDIN or not os.path.isfile(path):
        return None
    try:
        lines, last = 0, b"\n"
        with open(path, "rb") as f:      # in blocks: a file with no newline is one line of any size
            for block in iter(lambda: f.read(1 << 20), b""):
                lines, last = lines + block.count(b"\n"), block[-1:]
        return lines + (last != b"\n")
    except OSError as e:
        raise UsageError(f"cannot read texts file {path}: {e.strerror}") from e
