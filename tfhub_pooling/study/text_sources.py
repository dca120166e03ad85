"""Where texts come from besides the command line: a UTF-8 file, or generated.

A texts file holds one text a line; a tab splits a line into a sentence pair.
Generated texts are seeded random sentences of whole words from the module's
vocab: varied enough that [CLS] vectors span many directions, which the
black-box recovery needs (recovery.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import BinaryIO, Iterator

import numpy as np

from tfhub_pooling.errors import UsageError
from tfhub_pooling.study.texts import Text

STDIN = "-"


def _open(path: str) -> BinaryIO:
    if path == STDIN:
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as e:
        raise UsageError(f"cannot read texts file {path}: {e.strerror}") from e


def iter_texts_file(path: str) -> Iterator[tuple[int, Text]]:
    """Yields (line number, text) lazily, so a large file is never held whole in memory.

    path: a file, a pipe, or "-" for standard input. A UTF-8 byte order mark
    before the first line is not part of its text.
    """
    f = _open(path)
    with contextlib.nullcontext(f) if path == STDIN else f:
        seen = 0
        for number, raw in enumerate(f, start=1):
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
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError as e:
        raise UsageError(f"cannot read texts file {path}: {e.strerror}") from e


def generate_texts(n: int, vocab_file: str, seed: int = 0,
                   min_words: int = 4, max_words: int = 30) -> list[Text]:
    """n seeded random sentences; every fifth one a pair."""
    from tfhub_pooling.study import vocabs   # imports TensorFlow; reading texts does not need it

    # An array once: rng.choice converts a list afresh on every call (~5 ms for 20k words).
    words = np.array(vocabs.whole_words(vocabs.read(vocab_file)))
    if len(words) < 100:
        raise UsageError(f"vocab {vocab_file} has too few whole words to generate texts from")
    rng = np.random.default_rng(seed)

    def sentence() -> str:
        picked = rng.choice(words, size=int(rng.integers(min_words, max_words + 1)))
        return " ".join(picked).capitalize() + rng.choice([".", "?", "!"])

    return [(sentence(), sentence()) if i % 5 == 4 else sentence() for i in range(n)]
