"""Corpus mode: the study over a texts file too large to hold, in flat memory.

Texts are read in chunks; each chunk is tokenized and packed in one eager call,
sorted by its true token counts into batches so that padding stays small, run
and compared by the batch loop verify uses too (batches.compared), and folded
into running statistics: the batches' comparisons merged without their per-text
rows (comparison.merge), on which the run's verdict is judged, and each batch's
verdict counted. Only the statistics and the worst few texts are kept, never the
outputs. Worst texts carry their line numbers, so results read in file order.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from tfhub_pooling import defaults
from tfhub_pooling.numerics import bounds, comparison, structure
from tfhub_pooling.study import batches, stored_pooler
from tfhub_pooling.study.encoder_inputs import EncoderInputs, Packed
from tfhub_pooling.study.loading import LoadedModule
from tfhub_pooling.study.texts import Text, check_lengths

CHUNK = 2048        # texts read and length-sorted at a time
WORST = 5


@dataclasses.dataclass
class WorstText:
    line: int                    # the text's line in the file
    text: Text
    bound_ratio: float           # max |pooled - rebuilt| / bound over the text's elements
    max_abs_rebuilt: float
    max_abs_cls: float


@dataclasses.dataclass
class CorpusStats:
    texts: int = 0
    tokens: int = 0
    padded_tokens: int = 0       # what the batches cost, padding included
    truncated: int = 0
    padded_to: int | None = None     # the longest length batches ran padded to, where the module takes only some
    summary: comparison.Comparison | None = None   # every batch's comparison merged, totals only
    verdicts: dict[str, int] = dataclasses.field(default_factory=dict)   # batches per verdict
    first_mismatch: tuple[int, int] | None = None   # the first and last line of the first batch that did
                                                    # not match its pooler
    worst: list[WorstText] = dataclasses.field(default_factory=list)
    structure: structure.Structure | None = None   # the residual-structure test over every text
    interrupted: bool = False    # Ctrl-C or SIGTERM stopped the run; the figures cover what was done
    interrupted_by: KeyboardInterrupt | None = dataclasses.field(default=None, repr=False)  # to raise again

    @property
    def verdict(self) -> str:
        """The run's verdict: every batch's comparison folded into one (summary), judged as
        verify judges its texts, with the residual-structure test over every text."""
        assert self.summary is not None, "a corpus run compares at least one batch"
        return self.summary.verdict

    @property
    def exit_code(self) -> int:
        return comparison.VERDICT_EXIT_CODES[self.verdict]


def token_sorted_batches(packed: Packed, batch_size: int) -> Iterator[np.ndarray]:
    """Rows of a packed chunk in batches of similar token count (a stable sort, so equal
    lengths keep file order)."""
    by_tokens = np.argsort(packed.token_counts, kind="stable")
    for i in range(0, len(by_tokens), batch_size):
        yield by_tokens[i:i + batch_size]


def run_corpus(module: LoadedModule, source, numbered_texts: Iterable[tuple[int, Text]], max_seq_length: int,
               pooler: stored_pooler.PoolerWeights | None, batch_size: int = defaults.BATCH_SIZE,
               progress=None, structure_test: bool = True) -> CorpusStats:
    """Streams (line number, text) pairs through the study; `progress` is tqdm-like or None.

    structure_test: fold every batch into the residual-structure test (structure.py).
    """
    stats = CorpusStats()
    heap: list[tuple[float, int, WorstText]] = []
    numbered = iter(numbered_texts)
    sums = structure.ResidualSums(pooler.kernel, pooler.bias, pooler.arithmetic) if pooler and structure_test else None
    try:
        with bounds.quiet_blas():
            for b in batches.compared(module, pooler, _batches(source, numbered, max_seq_length, batch_size)):
                _fold(stats, heap, b)
                if sums is not None:
                    sums.add(b.outputs.pooled_output, b.outputs.cls)
                if progress is not None:
                    progress.update(len(b.key[0]))
    except KeyboardInterrupt as e:
        if not stats.texts:
            raise
        stats.interrupted, stats.interrupted_by = True, e   # the figures so far are still worth printing
    stats.worst = [w for _, _, w in sorted(heap, key=lambda h: -h[0])]
    if sums is not None and sums.n and stats.summary is not None:
        stats.structure = sums.result()
        stats.summary = comparison.with_structure(stats.summary, stats.structure)
    return stats


def _batches(source, numbered: Iterator[tuple[int, Text]], max_seq_length: int, batch_size: int
             ) -> Iterator[tuple[tuple[list[int], list[Text]], EncoderInputs]]:
    """((line numbers, texts), inputs) of token-sorted batches, a chunk at a time, so memory
    stays flat in the corpus size."""
    while chunk := list(itertools.islice(numbered, CHUNK)):
        lines, chunk_texts = zip(*chunk, strict=False)
        check_lengths(max_seq_length, chunk_texts)
        packed = source.pack(list(chunk_texts), max_seq_length)
        for rows in token_sorted_batches(packed, batch_size):
            yield ([lines[r] for r in rows], [chunk_texts[r] for r in rows]), packed.batch(rows)


def _fold(stats: CorpusStats, heap: list, b: batches.ComparedBatch) -> None:
    (lines, texts), inputs, out, c = b.key, b.inputs, b.outputs, b.comparison
    stats.texts += len(lines)
    stats.tokens += int(inputs.input_mask.sum())
    stats.padded_tokens += inputs.input_mask.size
    stats.truncated += int(inputs.truncated.sum())
    if out.ran_at is not None:
        stats.padded_to = max(stats.padded_to or 0, out.ran_at)
    stats.summary = comparison.merge([c] if stats.summary is None else [stats.summary, c], rows=False)
    stats.verdicts[c.verdict] = stats.verdicts.get(c.verdict, 0) + 1
    if c.verdict != comparison.MATCHES_POOLER and stats.first_mismatch is None:
        stats.first_mismatch = (min(lines), max(lines))
    if c.rebuild is None:
        return
    ratios = c.rebuild.per_text_bound_ratio
    for i, line in enumerate(lines):
        item = (float(ratios[i]), line, WorstText(
            line, texts[i], float(ratios[i]), float(c.rebuild.pooled_vs_rebuilt.per_text_max_abs[i]),
            float(c.pooled_vs_cls.per_text_max_abs[i])))
        if len(heap) < WORST:
            heapq.heappush(heap, item)
        else:
            heapq.heappushpop(heap, item)
