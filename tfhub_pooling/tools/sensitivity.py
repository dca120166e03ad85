"""How small a pooler change the study catches: perturbed-control modules built
from real weights at shrinking amounts, each verified on the default texts."""

from __future__ import annotations

import os
import tempfile
from typing import Sequence

import numpy as np

from tfhub_pooling.builder import build
from tfhub_pooling.builder.bert_config import BertWeights
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.numerics import comparison
from tfhub_pooling.study import pipeline

AMOUNTS = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)


def smallest_detected(weights: BertWeights, elements: Sequence[tuple[int, int]],
                      amounts: Sequence[float] = AMOUNTS) -> list[dict]:
    """For each (row, col): every amount tried, whether it was caught, and the smallest caught."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfhub-pooling-sensitivity-") as tmp:
        for row, col in elements:
            caught = {}
            for amount in amounts:
                control = Control("perturbed", amount=amount, row=row, col=col)
                path = build.build_module(weights, os.path.join(tmp, f"{row}-{col}-{amount:g}"),
                                          control=control)
                r = pipeline.verify(path, recover_weights=False)   # caught or not is all we ask
                caught[amount] = r.verdict != comparison.MATCHES_POOLER
            detected = [a for a, c in caught.items() if c]
            rows.append({"row": row, "col": col, "caught": caught,
                         "smallest_detected": min(detected) if detected else None})
    return rows


def random_elements(hidden: int, n: int, seed: int = 0) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [(0, 0)] + [tuple(int(v) for v in rng.integers(0, hidden, 2)) for _ in range(n - 1)]


def main() -> int:
    """Prints, for W[0, 0] and four random elements of the default module's kernel,
    which changes the default texts catch."""
    import tensorflow as tf

    from tfhub_pooling.builder import cache, sources

    tf.get_logger().setLevel("ERROR")      # the TF1 writer's deprecation notices are not ours to show
    w = sources.from_hf_dir(cache.weights_dir())
    for r in smallest_detected(w, random_elements(w.config.hidden_size, 5)):
        marks = " ".join(f"{a:g}:{'caught' if c else 'missed'}" for a, c in r["caught"].items())
        print(f"W[{r['row']}, {r['col']}]  smallest detected {r['smallest_detected']}  ({marks})")
    return 0
