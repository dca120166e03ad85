"""Where two models' pooled outputs part, stage by stage, in numbers.

Pure functions over what each side gave (numpy arrays); study/parting.py runs the sides,
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
    "PART_AT_ENCODER": "on the same ids, their sequence_output differs beyond its precision's tolerance",
    "PART_AT_POOLER_WEIGHTS": "their stored pooler weights differ",
    "PART_AT_POOLER": "same cls and weights, yet pooled_output differs, or one side's pooler is not its weights",
}
# Units of roundoff per layer, times max |sequence_output|, for the less precise of the two
# sides' weights (loading.WEIGHT_DTYPES). float32: two builds of the same BERT part by far
# less (MiniLM: 2.4e-6 in TF, 4.4e-6 against its LiteRT conversion, held to 1.4e-4), a GELU
# form by more (2.5e-3). Weights stored coarser part the encoders by their rounding, which
# reaches every layer's output: MiniLM against its own conversions measured 0.12 units per
# layer in float16, 1.7 in dynamic-range int8 (which also quantizes each layer's input);
# held to 8. In those precisions a GELU form's difference is within the tolerance, and is
# not told apart.
ENCODER_TOLERANCE = {"float32": (64.0, bounds.U32), "float16": (8.0, 2.0 ** -11), "bfloat16": (8.0, 2.0 ** -8),
                     "int8": (8.0, 1 / (2 * bounds.INT8_LEVELS))}
SHOW_ELEMENTS = 5


@dataclasses.dataclass(frozen=True)
class Stage:
    stage: str                   # STAGES
    status: str                  # AGREES, PARTS or NOT_COMPARED
    max_abs: float | None = None  # the largest difference the stage measured
    bound: float | None = None    # what it was held to (the largest element's bound, for per-element ones)
    findings: dict[str, Any] = dataclasses.field(default_factory=dict)   # the stage's own facts, as data


@dataclasses.dataclass(frozen=True)
class Weights:
    """One side's stored pooler: W [H, H], b [H] as it computes with them, in its arithmetic
    (bounds.UNIT_ROUNDOFF), and one step of the storage each element was rounded to (0: exact)."""

    kernel: np.ndarray
    bias: np.ndarray
    arithmetic: str = "float32"
    steps: tuple[np.ndarray | float, np.ndarray | float] = (0.0, 0.0)   # kernel's [H, H], bias's [H]


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
            precision: str = "float32") -> Stage:
    """sequence_output [B, S, H] of both sides on the same ids, over real tokens (mask [B, S]),
    held to the tolerance of `precision`: the less precise side's weights (ENCODER_TOLERANCE)."""
    real = mask.astype(bool)
    diff = np.abs(sequence_a.astype(np.float64) - sequence_b)[real]
    units, u = ENCODER_TOLERANCE[precision]
    tolerance = units * layers * u * float(np.abs(sequence_a[real]).max())
    worst = float(diff.max())
    cls = float(np.abs(sequence_a[:, 0, :].astype(np.float64) - sequence_b[:, 0, :]).max())
    return Stage(ENCODER, PARTS if worst > tolerance else AGREES, worst, tolerance,
                 {"cls_max_abs_diff": cls, "layers": layers, "precision": precision})


def pooler_weights(a: Weights, b: Weights) -> Stage:
    """The stored W [H, H] and b [H] of both, as each side computes with them. The same float32
    weights convert exactly; a side that stores them coarser (float16, int8) rounds each element
    by at most one step of its storage (Weights.steps), so an element differs where
    |A - B| exceeds the two sides' steps together."""
    if a.kernel.shape != b.kernel.shape or a.bias.shape != b.bias.shape:
        return Stage(POOLER_WEIGHTS, PARTS, None, 0.0, {"shapes": [list(a.kernel.shape), list(b.kernel.shape)]})
    dk, allowed_k = np.abs(a.kernel.astype(np.float64) - b.kernel), a.steps[0] + b.steps[0]
    db, allowed_b = np.abs(a.bias.astype(np.float64) - b.bias), a.steps[1] + b.steps[1]
    rows, cols = np.nonzero(dk > allowed_k)
    order = np.argsort(-dk[rows, cols])[:SHOW_ELEMENTS]
    kernel = [{"row": int(rows[i]), "col": int(cols[i]), "a": float(a.kernel[rows[i], cols[i]]),
               "b": float(b.kernel[rows[i], cols[i]])} for i in order]
    (beyond,) = np.nonzero(db > allowed_b)
    bias = [{"index": int(i), "a": float(a.bias[i]), "b": float(b.bias[i])}
            for i in beyond[np.argsort(-db[beyond])][:SHOW_ELEMENTS]]
    within = int(np.count_nonzero((dk > 0) & (dk <= allowed_k)) + np.count_nonzero((db > 0) & (db <= allowed_b)))
    return Stage(POOLER_WEIGHTS, PARTS if rows.size or beyond.size else AGREES, float(max(dk.max(), db.max())),
                 float(max(np.max(allowed_k), np.max(allowed_b))),
                 {"kernel_elements_differing": int(rows.size), "bias_elements_differing": int(beyond.size),
                  "elements_within_a_step": within, "largest_kernel_differences": kernel,
                  "largest_bias_differences": bias})




def pooler(pooled_a: np.ndarray, pooled_b: np.ndarray, cls_a: np.ndarray, cls_b: np.ndarray,
           weights_a: Weights | None, weights_b: Weights | None, verdict_a: str, verdict_b: str) -> Stage:
    """pooled_output [B, H] of both on the same ids. With both sides' pooler weights, each
    element is held to the derived bound

        |tanh(z_a) - tanh(z_b)| <= |Δcls| · |W_a| + |cls_b| · |W_a - W_b| + |b_a - b_b|
                                   + each side's rounding in its own arithmetic,

    (z_a - z_b = Δcls · W_a + cls_b · (W_a - W_b) + b_a - b_b; the weights' term is a
    conversion's rounding of W, or a real difference the pooler-weights stage names);
    without, to |Δcls| (an identity pooler passes a difference of cls through at most as large)."""
    cls_diff = np.abs(cls_a.astype(np.float64) - cls_b)
    if weights_a is not None and weights_b is not None:
        wa, wb = weights_a.kernel.astype(np.float64), weights_b.kernel.astype(np.float64)
        bound = (cls_diff @ np.abs(wa) + np.abs(cls_b.astype(np.float64)) @ np.abs(wa - wb)
                 + np.abs(weights_a.bias.astype(np.float64) - weights_b.bias)
                 + bounds.pooler_error_bound(cls_a, weights_a.kernel, weights_a.bias, weights_a.arithmetic)
                 + bounds.pooler_error_bound(cls_b, weights_b.kernel, weights_b.bias, weights_b.arithmetic))
    else:
        bound = cls_diff + 4 * bounds.U32
    diff = np.abs(pooled_a.astype(np.float64) - pooled_b)
    outside = int(np.count_nonzero(diff > bound))
    findings = {"verdict_a": verdict_a, "verdict_b": verdict_b, "elements_outside": outside,
                "worst_bound_ratio": float((diff / np.maximum(bound, np.finfo(np.float64).tiny)).max())}
    parts = outside > 0 or verdict_a != verdict_b
    return Stage(POOLER, PARTS if parts else AGREES, float(diff.max()), float(bound.max()), findings)
