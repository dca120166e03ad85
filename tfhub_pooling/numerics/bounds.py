"""Rebuilds the pooler from stored weights and compares it with the module's output.

The tolerance is a rounding-error bound, not a guess. The module computes, in
float32, z_j = sum_i cls_i W_ij + b_j (H products and H+1 additions, in whatever
order its kernels choose), then pooled_j = tanh(z_j). For any summation order
(Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5):

    |fl(z_j) - z_j| <= gamma_{H+1} * (sum_i |cls_i W_ij| + |b_j|),
    gamma_n = n u / (1 - n u),   u = 2^-24 (float32 unit roundoff).

tanh is 1-Lipschitz, so that error passes through at most unchanged, and the
float32 tanh adds its own: measured on TF's kernel at up to 5.76 u over a
2,000,001-point grid on [-12, 12] (tests/test_comparison.py re-measures it),
bounded here by TANH_ERROR_U = 8 u; |tanh| <= 1 makes that an absolute bound.
The float64 rebuild's own error (~1e-16) is negligible. So element by element:

    |pooled_j - tanh(z_j)| <= gamma_{H+1} * (|cls| · |W| + |b|)_j + 8 u.

A module whose pooled_output stays within this bound everywhere is consistent
with tanh(cls · W + b) for the stored W and b; one element outside it is not.

Dynamic-range int8 (INT8_DYNAMIC, LiteRT's hybrid FULLY_CONNECTED): W is stored as int8
with a float32 scale per output channel, and the kernel quantizes its float input on the
fly, per row: s = max_i |cls_i| / 127, q_i = round(cls_i / s), then sums q_i · W_ij in
int32 and scales back. With W the dequantized weights (scale · q, exact in float64), the
only new error is the input's rounding, |s q_i - cls_i| <= s / 2 (an asymmetric input
quantization's step, (max - min) / 255, is no larger), so

    |z_j - (cls · W + b)_j| <= (s / 2) · sum_i |W_ij|  + the float32 bound above.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

U32 = 2.0 ** -24
TANH_ERROR_U = 8.0
# The unit roundoff u of the precision the pooler ran in. Under Keras mixed precision a
# module computes in float16 or bfloat16 (its weights rounded to that on the way in) and
# returns outputs of that dtype; a float64 output still comes from float32 weights.
INT8_DYNAMIC = "int8-dynamic"
UNIT_ROUNDOFF = {"float32": U32, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8, INT8_DYNAMIC: U32}
INT8_LEVELS = 127


def quiet_blas():
    """A context in which numpy's BLAS runs on one thread.

    The comparison's matrix products are tiny ([B, H] x [H, H]), but OpenBLAS
    spreads them over every core and its threads then spin-wait, stealing the
    cores from the module's next forward pass: measured here, 20 % slower
    forwards when comparisons run between them, none with one BLAS thread.
    """
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def gamma(n: int, u: float = U32) -> float:
    return n * u / (1.0 - n * u)


def precision_of(*outputs: np.ndarray) -> str:
    """The precision the pooler ran in: the least precise of its outputs' dtypes.

    A module that computes in float16 and casts its outputs up to float32 reads as
    float32; its pooler would then fall outside the float32 bound, and say so."""
    names = {np.dtype(a.dtype).name for a in outputs}
    return next((p for p in ("bfloat16", "float16") if p in names), "float32")


def as_computed(kernel: np.ndarray, bias: np.ndarray, precision: str) -> tuple[np.ndarray, np.ndarray]:
    """W and b as a module computing in `precision` uses them: rounded to it, in float64.
    INT8_DYNAMIC weights are given dequantized already, exactly."""
    if precision in ("float32", INT8_DYNAMIC):
        return kernel, bias
    import ml_dtypes  # TensorFlow's own numpy dtypes (bfloat16)

    dtype = ml_dtypes.bfloat16 if precision == "bfloat16" else np.float16
    return (kernel.astype(dtype).astype(np.float64), bias.astype(dtype).astype(np.float64))


# The spacing of a float format relative to a value's magnitude, at its widest (2^-mantissa
# bits), and the spacing of its subnormals: one step of storage is at most max(|w| * REL, MIN).
STORAGE_SPACING = {"float16": (2.0 ** -10, 2.0 ** -24), "bfloat16": (2.0 ** -7, 2.0 ** -133)}


def storage_step(weights: np.ndarray, dtype: str) -> np.ndarray | None:
    """One step of the format `weights` are stored in, per element, as an upper bound: two
    stores of the same float32 values in it differ by no more. None: float32 or wider
    (the same weights convert exactly). int8's step is its scale, which the file gives."""
    if dtype not in STORAGE_SPACING:
        return None
    relative, smallest = STORAGE_SPACING[dtype]
    return np.maximum(np.abs(weights.astype(np.float64)) * relative, smallest)


def rebuild(cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
            dtype: type = np.float64) -> np.ndarray:
    """The pooler: cls [B, H] · kernel [H, H] + bias [H], through tanh -> [B, H]."""
    return np.tanh(cls.astype(dtype) @ kernel.astype(dtype) + bias.astype(dtype))


def pooler_error_bound(cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                       precision: str = "float32") -> np.ndarray:
    """Per-element bound [B, H] on |pooler in `precision` - exact pooler| (module docstring),
    for W and b as the module used them (as_computed)."""
    u = UNIT_ROUNDOFF[precision]
    magnitude = np.abs(cls.astype(np.float64)) @ np.abs(kernel.astype(np.float64)) + np.abs(bias)
    bound = gamma(cls.shape[1] + 1, u) * magnitude + TANH_ERROR_U * u
    if precision == INT8_DYNAMIC:
        step = np.abs(cls.astype(np.float64)).max(axis=1, keepdims=True) / INT8_LEVELS    # s, per row [B, 1]
        bound = bound + step / 2 * np.abs(kernel.astype(np.float64)).sum(axis=0)
    return bound


def masked_mean(sequence_output: np.ndarray, input_mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens: [B, S, H], [B, S] -> [B, H], in float64."""
    mask = input_mask.astype(np.float64)[:, :, None]
    return (sequence_output * mask).sum(axis=1) / mask.sum(axis=1)


@dataclasses.dataclass
class Metrics:
    """How far `a` is from `b`, overall and per text."""

    max_abs: float
    mean_abs: float
    min_cosine: float
    per_text_max_abs: np.ndarray   # [B]
    per_text_cosine: np.ndarray    # [B]

    def as_dict(self) -> dict:
        return {"max_abs_diff": self.max_abs, "mean_abs_diff": self.mean_abs,
                "min_cosine": self.min_cosine}


def metrics(a: np.ndarray, b: np.ndarray) -> Metrics:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    diff = np.abs(a64 - b64)
    norms = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    cosine = np.sum(a64 * b64, axis=1) / np.where(norms > 0, norms, 1.0)
    return Metrics(float(diff.max()), float(diff.mean()), float(cosine.min()),
                   diff.max(axis=1), cosine)


def merge_metrics(parts: Sequence[Metrics], elements: Sequence[int], rows: bool = True) -> Metrics:
    """Batches' metrics as one over all their texts; elements: each batch's B · H, which
    weighs its mean. rows: keep the per-text arrays, or leave them empty (a running fold)."""
    total = sum(elements)
    return Metrics(max(p.max_abs for p in parts),
                   sum(p.mean_abs * n for p, n in zip(parts, elements, strict=True)) / total,
                   min(p.min_cosine for p in parts),
                   np.concatenate([p.per_text_max_abs for p in parts]) if rows else np.empty(0),
                   np.concatenate([p.per_text_cosine for p in parts]) if rows else np.empty(0))
