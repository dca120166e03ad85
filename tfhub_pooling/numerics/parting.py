"""Where two models' pooled outputs part, stage by stage, in numbers.

Pure functions over what each side gave (numpy only); study/parting.py runs the sides,
reports/parting.py says it in words. Stages, in the order a text meets them:

  tokenizer       each side's own ids for the same texts (identical, or where first not)
  encoder         sequence_output of both sides on the same ids (A's), over real tokens
  pooler weights  the stored W, b of both, element by element
  pooler          pooled_output of both on the same ids, and each side's own verdict

A stage parts when its difference exceeds its bound; the first stage that parts is the
verdict. The pooler's bound is derived: |tanh(z_a) - tanh(z_b)| <= |z_a - z_b|, and
z_a - z_b = (cls_a - cls_b) · W plus each side's float32 rounding (bounds.py). The
encoder's is a tolerance, not a bound: two implementations of one network round
differently at every layer, which no short formula bounds (ENCODER_TOLERANCE_U).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tfhub_pooling.numerics import bounds

TOKENIZER, ENCODER, POOLER_WEIGHTS, POOLER = "tokenizer", "encoder", "pooler-weights", "pooler"
STAGES = (TOKENIZER, ENCODER, POOLER_WEIGHTS, POOLER)
AGREES, PARTS, NOT_COMPARED = "agrees", "parts", "not-compared"

AGREE = "AGREE"
VERDICT_EXIT_CODES = {AGREE: 0, "PART_AT_TOKENIZER": 21, "PART_AT_ENCODER": 22, "PART_AT_POOLER_WEIGHTS": 23,
                      "PART_AT_POOLER": 24}
VERDICT_MEANINGS = {
    AGREE: "the two models agree at every stage, within each stage's bound",
    "PART_AT_TOKENIZER": "their tokenizers give different ids for the same text",
    "PART_AT_ENCODER": "on the same ids, their sequence_output differs beyond float32 tolerance",
    "PART_AT_POOLER_WEIGHTS": "their stored pooler weights differ",
    "PART_AT_POOLER": "same cls and weights, yet pooled_output differs, or one side's pooler is not its weights",
}
# Units of float32 roundoff per layer, times max |sequence_output|: two float32 builds of the
# same BERT part by far less (measured 2.4e-6 on MiniLM, held to 1.3e-4), a GELU form by more (2.5e-3).
ENCODER_TOLERANCE_U = 64.0
SHOW_ELEMENTS = 5


@dataclasses.dataclass(frozen=True)
class Stage:
    stage: str                   # STAGES
    status: str                  # AGREES, PARTS or NOT_COMPARED
    max_abs: float | None = None  # the largest difference the stage measured
    bound: float | None = None    # what it was held to (the largest element's bound, for per-element ones)
    findings: dict[str, Any] = dataclasses.field(default_factory=dict)   # the stage's own facts, as data


def verdict(stages: tuple[Stage, ...]) -> str:
    """The first stage that parts names the verdict; none: AGREE."""
    first = next((s for s in stages if s.status == PARTS), None)
    return AGREE if first is None else f"PART_AT_{first.stage.upper().replace('-', '_')}"


def first_difference(ids_a: list[list[int]], ids_b: list[list[int]]) -> tuple[int, int] | None:
    """(text, position) where the two sides' ids first differ, or None."""
    for t, (a, b) in enumerate(zip(ids_a, ids_b, strict=True)):
        if a != b:
            return t, next((p for p, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                          min(len(a), len(b)))
    return None


def encoder(sequence_a: np.ndarray, sequence_b: np.ndarray, mask: np.ndarray, layers: int,
            findings: dict[str, Any]) -> Stage:
    """sequence_output [B, S, H] of both sides on the same ids, over real tokens (mask [B, S])."""
    real = mask.astype(bool)
    diff = np.abs(sequence_a.astype(np.float64) - sequence_b)[real]
    tolerance = ENCODER_TOLERANCE_U * layers * bounds.U32 * float(np.abs(sequence_a[real]).max())
    worst = float(diff.max())
    cls = float(np.abs(sequence_a[:, 0, :].astype(np.float64) - sequence_b[:, 0, :]).max())
    return Stage(ENCODER, PARTS if worst > tolerance else AGREES, worst, tolerance,
                 {"cls_max_abs_diff": cls, "layers": layers} | findings)


def pooler_weights(kernel_a: np.ndarray, bias_a: np.ndarray, kernel_b: np.ndarray, bias_b: np.ndarray) -> Stage:
    """The stored W [H, H] and b [H] of both, as each side computes with them: any element
    that differs is a difference (the same float32 weights convert exactly)."""
    if kernel_a.shape != kernel_b.shape or bias_a.shape != bias_b.shape:
        return Stage(POOLER_WEIGHTS, PARTS, None, 0.0, {"shapes": [list(kernel_a.shape), list(kernel_b.shape)]})
    dk = np.abs(kernel_a.astype(np.float64) - kernel_b)
    db = np.abs(bias_a.astype(np.float64) - bias_b)
    rows, cols = np.nonzero(dk)
    order = np.argsort(-dk[rows, cols])[:SHOW_ELEMENTS]
    kernel = [{"row": int(rows[i]), "col": int(cols[i]), "a": float(kernel_a[rows[i], cols[i]]),
               "b": float(kernel_b[rows[i], cols[i]])} for i in order]
    bias = [{"index": int(i), "a": float(bias_a[i]), "b": float(bias_b[i])} for i in np.argsort(-db)[:SHOW_ELEMENTS]
            if db[i] > 0]
    worst = float(max(dk.max(), db.max()))
    return Stage(POOLER_WEIGHTS, PARTS if worst > 0 else AGREES, worst, 0.0,
                 {"kernel_elements_differing": int(rows.size), "bias_elements_differing": int(np.count_nonzero(db)),
                  "largest_kernel_differences": kernel, "largest_bias_differences": bias})


def pooler(pooled_a: np.ndarray, pooled_b: np.ndarray, cls_a: np.ndarray, cls_b: np.ndarray,
           kernel: np.ndarray | None, bias: np.ndarray | None, verdict_a: str, verdict_b: str) -> Stage:
    """pooled_output [B, H] of both on the same ids. With pooler weights (A's), each element is
    held to the derived bound |Δcls| · |W| plus both sides' float32 rounding; without, to |Δcls|
    (an identity pooler passes a difference of cls through at most as large)."""
    cls_diff = np.abs(cls_a.astype(np.float64) - cls_b)
    if kernel is not None and bias is not None:
        bound = (cls_diff @ np.abs(kernel.astype(np.float64))
                 + bounds.pooler_error_bound(cls_a, kernel, bias) + bounds.pooler_error_bound(cls_b, kernel, bias))
    else:
        bound = cls_diff + 4 * bounds.U32
    diff = np.abs(pooled_a.astype(np.float64) - pooled_b)
    outside = int(np.count_nonzero(diff > bound))
    findings = {"verdict_a": verdict_a, "verdict_b": verdict_b, "elements_outside": outside,
                "worst_bound_ratio": float((diff / np.maximum(bound, np.finfo(np.float64).tiny)).max())}
    parts = outside > 0 or verdict_a != verdict_b
    return Stage(POOLER, PARTS if parts else AGREES, float(diff.max()), float(bound.max()), findings)
