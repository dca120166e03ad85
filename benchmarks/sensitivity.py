"""How small a pooler change the study catches: perturbed-control modules built at
shrinking amounts for a few kernel elements, on three shapes (MiniLM's real weights,
bert-base and bert-large shapes with seeded random weights), each verified on the
default texts without the diagnosis. Prints a Markdown table; `--out` writes it."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence

import numpy as np

from tfhub_pooling import api
from tfhub_pooling.builder import build
from tfhub_pooling.builder.bert_config import BertConfig, BertWeights
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.numerics import comparison, structure
from tfhub_pooling.study.results import VerifyResult

AMOUNTS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
# (layers, hidden) of the shapes the question is about; heads of 64 values, FFN 4H.
SHAPES = {"bert-base": (12, 768), "bert-large": (24, 1024)}


def outcome(r: VerifyResult, element: tuple[int, int] | None) -> str:
    """caught by the bound, caught by the structure test (naming the changed element),
    missed, or flagged for another element (a false alarm on the clean module)."""
    c = r.comparison
    if r.verdict == comparison.MATCHES_POOLER:
        return "missed"
    if c.rebuild is not None and c.rebuild.elements_outside:
        return "bound"
    s = c.structure
    if s is not None and s.differs:
        return "structure" if (s.row, s.col) == element else f"other element W[{s.row}, {s.col}]"
    return r.verdict


def effect_snr(r: VerifyResult, row: int, col: int, amount: float) -> float:
    """The change's effect on pooled_output[:, col], to first order, largest over the
    texts, in units of the rounding noise expected there (structure.rounding_noise):
    amount * cls[:, row] * tanh'(z[:, col]) / sigma[:, col]."""
    cls = r.sequence_output[:, 0, :].astype(np.float64)                          # [B, H]
    kernel = r.pooler.kernel[:, [col]].astype(np.float64)                        # [H, 1]
    rebuilt = np.tanh(cls @ kernel + r.pooler.bias[col])                         # [B, 1]
    effect = np.abs(amount * cls[:, [row]] * (1.0 - rebuilt ** 2))
    return float((effect / structure.rounding_noise(cls, kernel, rebuilt)).max())


def sweep(weights: BertWeights, elements: Sequence[tuple[int, int]],
          amounts: Sequence[float] = AMOUNTS) -> list[dict]:
    """For each (row, col) and amount: how the change was caught, or that it was missed."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfhub-pooling-sensitivity-") as tmp:
        clean = api.verify(build.build_module(weights, os.path.join(tmp, "clean")), recover_weights=False)
        rows.append({"row": None, "col": None, "amount": 0.0, "outcome": outcome(clean, None),
                     "bound_ratio": clean.comparison.rebuild.worst_bound_ratio,
                     "false_alarm": clean.comparison.structure.false_alarm})
        for row, col in elements:
            for amount in amounts:
                control = Control("perturbed", amount=amount, row=row, col=col)
                path = build.build_module(weights, os.path.join(tmp, f"{row}-{col}-{amount:g}"),
                                          control=control)
                r = api.verify(path, recover_weights=False)   # caught or not is all we ask
                rows.append({"row": row, "col": col, "amount": amount, "outcome": outcome(r, (row, col)),
                             "effect": effect_snr(r, row, col, amount),
                             "bound_ratio": r.comparison.rebuild.worst_bound_ratio,
                             "false_alarm": r.comparison.structure.false_alarm})
                shutil.rmtree(path)     # a bert-large module is 1.3 GB
    return rows


def random_elements(hidden: int, n: int, seed: int = 0) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [(0, 0)] + [tuple(int(v) for v in rng.integers(0, hidden, 2)) for _ in range(n - 1)]


def smallest_caught(rows: list[dict]) -> float | None:
    """The smallest amount such that it, and every larger amount, was caught at every element."""
    by_amount: dict[float, list[bool]] = {}
    for r in rows:
        if r["row"] is not None:
            by_amount.setdefault(r["amount"], []).append(r["outcome"] in ("bound", "structure"))
    smallest = None
    for amount in sorted(by_amount, reverse=True):
        if not all(by_amount[amount]):
            break
        smallest = amount
    return smallest


def largest_missed_effect(rows: list[dict]) -> float | None:
    """The largest effect (in noise units) among the changes the study missed."""
    missed = [r["effect"] for r in rows if r["row"] is not None
              and r["outcome"] not in ("bound", "structure")]
    return max(missed) if missed else None


def table(name: str, rows: list[dict], seconds: float) -> list[str]:
    clean = rows[0]
    smallest = smallest_caught(rows)
    missed = largest_missed_effect(rows)
    lines = [f"### {name}", "",
             f"Clean module: {'MATCHES_POOLER' if clean['outcome'] == 'missed' else 'FALSE ALARM, ' + clean['outcome']}, "
             f"worst element at {clean['bound_ratio']:.3g} of its bound, structure test's false-alarm "
             f"probability {clean['false_alarm']:.2g}. Smallest change caught at every element tried: "
             f"**{'none' if smallest is None else f'{smallest:g}'}**. Largest effect missed: "
             f"{'none missed' if missed is None else f'{missed:.3g} times the noise'}. ({seconds / 60:.1f} min)", "",
             "| element | amount | effect / noise | caught by | worst bound ratio | false-alarm probability |",
             "|---|---|---|---|---|---|"]
    lines += [f"| W[{r['row']}, {r['col']}] | {r['amount']:g} | {r['effect']:.3g} | {r['outcome']} | "
              f"{r['bound_ratio']:.3g} | "
              f"{r['false_alarm']:.2g} |" for r in rows[1:]]
    return lines + [""]


def shape_weights(name: str, vocab_file: str) -> BertWeights:
    from tfhub_pooling import provision
    from tfhub_pooling.builder import sources

    if name == "minilm":
        return sources.from_hf_dir(provision.weights_dir())
    layers, hidden = SHAPES[name]
    config = BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=hidden // 64,
                        intermediate_size=4 * hidden)
    return sources.random_weights(config, vocab_file)


def main(argv: Sequence[str] | None = None) -> int:
    import tensorflow as tf

    from tfhub_pooling import atomic, provision

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shapes", default="minilm,bert-base,bert-large")
    parser.add_argument("--elements", type=int, default=5, help="W[0, 0] and n-1 random elements")
    parser.add_argument("--out", help="write the Markdown here as well")
    args = parser.parse_args(argv)
    tf.get_logger().setLevel("ERROR")      # the TF1 writer's deprecation notices are not ours to show
    lines = ["# Sensitivity: the smallest pooler change caught", "",
             "Generated by `scripts/sensitivity.py` "
             f"(`--shapes {args.shapes} --elements {args.elements}`). Each row is a module built "
             "with one kernel element changed, verified on the default texts (the structure test adds "
             f"generated ones up to {structure.TEXTS}, and up to {structure.FOLLOW_UP_TEXTS} where that first look is "
             "suspicious) without the diagnosis. *effect / noise*: the change's effect on "
             "pooled_output, to first order, largest over the default texts, over the rounding "
             "noise expected there (numerics/structure.py). *bound*: some element is outside the "
             "worst-case bound; *structure*: inside it everywhere, caught by the residual-structure "
             "test.", ""]
    for name in args.shapes.split(","):
        start = time.perf_counter()
        w = shape_weights(name, str(provision.weights_dir() / "vocab.txt"))
        rows = sweep(w, random_elements(w.config.hidden_size, args.elements))
        lines += table(name, rows, time.perf_counter() - start)
        print("\n".join(table(name, rows, time.perf_counter() - start)), flush=True)
    if args.out:
        text = "\n".join(lines)
        atomic.write_file(args.out, lambda f: f.write(text.encode()), "--out")
    return 0
