"""Which sequence lengths a module takes, and the length each batch runs at.

Most encoders take any length up to their position table. Some do not: Model
Garden's FNet and SparseMixer export signatures fixed at [None, max_length], and
BigBird's block-sparse attention takes only whole numbers of blocks, and at least
a few of them. A batch is then padded up to a length the module takes. Attention
masks the padding, so BigBird's rows of real tokens see the same inputs; FNet's
Fourier mixing does not, as in every use of its fixed-length signature. Either
way pooled_output and sequence_output come from the same run, which is all the
comparison needs.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from typing import TypeVar

import tensorflow as tf

from tfhub_pooling.errors import InterfaceError, first_line

T = TypeVar("T")

# The ways a graph refuses a length: TensorFlow raises ValueError while shaping a
# restored function, InvalidArgumentError while running one.
REFUSALS = (ValueError, tf.errors.InvalidArgumentError)
# Block sizes worth trying: the multiples BigBird-style encoders are built with.
BLOCKS = (8, 16, 32, 64, 128, 256, 512)


def candidates(n: int, max_length: int) -> list[int]:
    """Lengths from n up to max_length to try, shortest first: n itself, the next
    multiple of each block size, and every multiple of 64 (a block-sparse encoder
    may need several blocks)."""
    found = {n, max_length} | {math.ceil(n / b) * b for b in BLOCKS}
    found |= set(range(64, max_length + 1, 64))
    return sorted(length for length in found if n <= length <= max_length)


@dataclasses.dataclass
class Lengths:
    """The module's rule for lengths, learnt as batches run.

    static: the length its signature fixes, or None.
    max_length: the longest it takes (rows of its position table).
    """

    static: int | None
    max_length: int
    _run_at: dict[int, int] = dataclasses.field(default_factory=dict)    # n -> the length it ran at
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    @property
    def picky(self) -> bool:
        """Whether some batch had to be padded to a length the module takes."""
        return self.static is not None or any(n != length for n, length in self._run_at.items())

    def run(self, n: int, call: Callable[[int], T]) -> tuple[int, T]:
        """Runs call(length) at the shortest length >= n the module takes; returns both."""
        if self.static is not None:
            return self.static, call(self.static)
        with self._lock:
            known = self._run_at.get(n)
        if known is not None:
            return known, call(known)
        first = None
        for length in candidates(n, self.max_length):
            try:
                result = call(length)
            except REFUSALS as e:
                first = first or e
                continue
            with self._lock:
                self._run_at[n] = length
            return length, result
        raise InterfaceError(f"the module takes no sequence length from {n} to {self.max_length} tokens "
                             f"(tried {', '.join(map(str, candidates(n, self.max_length)))}; at {n}: "
                             f"{first_line(first)}); it is no BERT encoder this tool can run") from None
