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
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from tfhub_pooling.numerics.recovery import Recovery

U32 = 2.0 ** -24
TANH_ERROR_U = 8.0

# Verdicts and their exit codes (README: "Exit codes").
MATCHES_POOLER = "MATCHES_POOLER"
EQUALS_CLS = "EQUALS_CLS"
MEAN_POOLED = "MEAN_POOLED"
POOLER_WEIGHTS_DIFFER = "POOLER_WEIGHTS_DIFFER"
NO_POOLER_WEIGHTS = "NO_POOLER_WEIGHTS"
UNEXPLAINED = "UNEXPLAINED"
INCONSISTENT_OUTPUTS = "INCONSISTENT_OUTPUTS"
VERDICT_EXIT_CODES = {
    MATCHES_POOLER: 0,
    EQUALS_CLS: 10,
    MEAN_POOLED: 11,
    POOLER_WEIGHTS_DIFFER: 12,
    NO_POOLER_WEIGHTS: 13,
    UNEXPLAINED: 14,
    INCONSISTENT_OUTPUTS: 15,
}


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


def rebuild(cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
            dtype: type = np.float64) -> np.ndarray:
    """The pooler: cls [B, H] · kernel [H, H] + bias [H], through tanh -> [B, H]."""
    return np.tanh(cls.astype(dtype) @ kernel.astype(dtype) + bias.astype(dtype))


def pooler_error_bound(cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Per-element bound [B, H] on |float32 pooler - exact pooler| (module docstring)."""
    magnitude = np.abs(cls.astype(np.float64)) @ np.abs(kernel.astype(np.float64)) + np.abs(bias)
    return gamma(cls.shape[1] + 1) * magnitude + TANH_ERROR_U * U32


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


@dataclasses.dataclass
class Comparison:
    pooled_vs_cls: Metrics
    pooled_vs_rebuilt: Metrics | None       # float64 rebuild; None without pooler weights
    pooled_vs_rebuilt32: Metrics | None     # the same rebuild in float32
    tolerance_max: float | None             # the largest per-element bound
    worst_bound_ratio: float | None         # max |pooled - rebuilt| / bound; <= 1 matches
    elements_outside: int | None            # elements beyond their bound
    per_text_bound_ratio: np.ndarray | None # [B] each text's worst element / its bound
    rebuilt: np.ndarray | None              # tanh(cls · W + b) in float64 [B, H]
    verdict: str
    reason: str

    @property
    def exit_code(self) -> int:
        return VERDICT_EXIT_CODES[self.verdict]


def interface_problems(checks: dict | None, num_layers: int | None) -> list[str]:
    """What Model Garden's export test asserts of a dict encoder, and each breach.

    checks: {"encoder_outputs": count, "default_vs_pooled": max |diff|,
    "last_layer_vs_sequence": max |diff|}, None entries not checkable. The same
    tensors must come back, so the differences must be exactly 0.
    """
    if checks is None:
        return []
    problems = []
    if checks["default_vs_pooled"] is None:
        problems.append("it returns no `default` output")
    elif checks["default_vs_pooled"] != 0:
        problems.append(f"`default` differs from pooled_output (max |diff| {checks['default_vs_pooled']:.3g})")
    count = checks["encoder_outputs"]
    if count is None:
        problems.append("it returns no `encoder_outputs`")
    elif num_layers is not None and count != num_layers:
        problems.append(f"`encoder_outputs` has {count} entries for {num_layers} stored layers")
    if checks["last_layer_vs_sequence"] is not None and checks["last_layer_vs_sequence"] != 0:
        problems.append("the last `encoder_outputs` entry differs from sequence_output "
                        f"(max |diff| {checks['last_layer_vs_sequence']:.3g})")
    return problems


def compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
            kernel: np.ndarray | None, bias: np.ndarray | None,
            recovered: Recovery | None = None, problems: Sequence[str] = ()) -> Comparison:
    """Decides what pooled_output [B, H] is, given sequence_output [B, S, H].

    recovered: a black-box fit (recovery.py); it lets a mismatch be told apart
    into POOLER_WEIGHTS_DIFFER (tanh of another affine map) and UNEXPLAINED.
    problems: breaches of the module's own output contract (interface_problems);
    they turn a match into INCONSISTENT_OUTPUTS and are named in any reason.
    """
    c = _compare(pooled, sequence_output, input_mask, kernel, bias, recovered)
    if not problems:
        return c
    breach = "the module's outputs break Model Garden's export checks: " + "; ".join(problems)
    if c.verdict == MATCHES_POOLER:
        return dataclasses.replace(c, verdict=INCONSISTENT_OUTPUTS, reason=f"{c.reason}, but {breach}")
    return dataclasses.replace(c, reason=f"{c.reason}; also, {breach}")


def _compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
             kernel: np.ndarray | None, bias: np.ndarray | None,
             recovered: Recovery | None) -> Comparison:
    cls = sequence_output[:, 0, :]
    vs_cls = metrics(pooled, cls)
    vs_rebuilt = vs_rebuilt32 = tol = ratio = outside = rebuilt = per_text = None
    if kernel is not None and bias is not None:
        rebuilt = rebuild(cls, kernel, bias)
        bound = pooler_error_bound(cls, kernel, bias)
        excess = np.abs(pooled.astype(np.float64) - rebuilt) / bound
        vs_rebuilt = metrics(pooled, rebuilt)
        vs_rebuilt32 = metrics(pooled, rebuild(cls, kernel, bias, np.float32))
        tol, ratio, outside = float(bound.max()), float(excess.max()), int(np.sum(excess > 1.0))
        per_text = excess.max(axis=1)
        if outside == 0:
            return Comparison(vs_cls, vs_rebuilt, vs_rebuilt32, tol, ratio, outside, per_text,
                              rebuilt, MATCHES_POOLER,
                              f"pooled_output = tanh(cls · W + b) within the float32 bound "
                              f"everywhere (worst element at {ratio:.3g} of its bound)")
    verdict, reason = _what_else(pooled, cls, sequence_output, input_mask)
    if verdict == UNEXPLAINED:
        verdict, reason = _mismatch(kernel is not None, outside, pooled.size, ratio, vs_rebuilt,
                                    recovered)
        if kernel is not None:
            reason += _other_activation(pooled, cls, kernel, bias)
    return Comparison(vs_cls, vs_rebuilt, vs_rebuilt32, tol, ratio, outside, per_text, rebuilt,
                      verdict, reason)


def _mismatch(has_weights: bool, outside: int | None, size: int, ratio: float | None,
              vs_rebuilt: Metrics | None, recovered: Recovery | None) -> tuple[str, str]:
    """Neither the stored pooler nor a look-alike: what the outputs still say."""
    affine = recovered is not None and recovered.explains
    if not has_weights:
        reason = "the module stores no pooler weights by any known name"
        if affine:
            reason += (", yet pooled_output is tanh of an affine map of cls "
                       f"(recovered from outputs: {recovered.summary()})")
        return NO_POOLER_WEIGHTS, reason
    reason = (f"{outside} of {size} elements exceed the float32 bound for tanh(cls · W + b) "
              f"with the stored weights (worst at {ratio:.3g}x its bound, max |diff| "
              f"{vs_rebuilt.max_abs:.3g}); pooled is neither cls nor the mean of the tokens")
    if recovered is None:
        return UNEXPLAINED, reason + "; --recover tests whether it is tanh of another affine map"
    if affine:
        return POOLER_WEIGHTS_DIFFER, reason + f"; it is tanh of another affine map of cls: {recovered.summary()}"
    return UNEXPLAINED, reason + f"; nor is it tanh of any affine map of cls: {recovered.summary()}"


def _other_activation(pooled: np.ndarray, cls: np.ndarray, kernel: np.ndarray,
                      bias: np.ndarray) -> str:
    """Names the activation if pooled is the stored dense layer under another one."""
    z = cls.astype(np.float64) @ kernel + bias
    bound = pooler_error_bound(cls, kernel, bias)
    for name, value in (("no activation", z), ("relu", np.maximum(z, 0.0))):
        if np.all(np.abs(pooled - value) <= bound):
            return f"; it is the stored dense layer with {name} instead of tanh"
    return ""


def _what_else(pooled: np.ndarray, cls: np.ndarray, sequence_output: np.ndarray,
               input_mask: np.ndarray) -> tuple[str, str]:
    """The look-alikes a pooled_output can be instead of the pooler."""
    # Copying cls is exact up to one rounding; averaging S tokens costs gamma_S.
    if np.all(np.abs(pooled - cls) <= U32 * np.maximum(np.abs(cls), 1.0)):
        return EQUALS_CLS, "pooled_output is the [CLS] vector itself; no dense layer or tanh was applied"
    seq_len = sequence_output.shape[1]
    mean = masked_mean(sequence_output, input_mask)
    mean_abs = masked_mean(np.abs(sequence_output), input_mask)
    if np.all(np.abs(pooled - mean) <= gamma(seq_len + 1) * mean_abs + U32):
        return MEAN_POOLED, "pooled_output is the mean of sequence_output over the real tokens"
    return UNEXPLAINED, ""
