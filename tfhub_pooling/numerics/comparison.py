"""The verdict: what pooled_output is, given the module's outputs and its stored
pooler weights, judged element by element against the rounding bound of bounds.py,
and, where that bound holds, by the residual-structure test of structure.py."""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from tfhub_pooling.numerics.bounds import (
    U32,
    Metrics,
    as_computed,
    gamma,
    masked_mean,
    metrics,
    pooler_error_bound,
    precision_of,
    rebuild,
)
from tfhub_pooling.numerics.recovery import Recovery
from tfhub_pooling.numerics.structure import ALPHA, Structure

# Verdicts and their exit codes (README, "What the verdict means"; docs/errors.md).
# Where |pooled| > SATURATED, tanh' < 0.002: a change in W barely moves pooled_output,
# so a match there says little. Above this share of elements, the reason says so.
SATURATED = 0.999
WEAK_WHEN_SATURATED = 0.5

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
    saturated: float                        # share of pooled elements with |value| > SATURATED
    recovery: Recovery | None               # the black-box fit, where a mismatch called for it
    pooler_note: str | None                 # what a matching pooler is: the identity, a zero bias
    structure: Structure | None = None      # the residual-structure test, where it ran
    precision: str = "float32"              # what the pooler ran in (bounds.precision_of)

    @property
    def exit_code(self) -> int:
        return VERDICT_EXIT_CODES[self.verdict]


def interface_problems(checks: dict | None, expected_outputs: int | None) -> list[str]:
    """What Model Garden's export test asserts of a dict encoder, and each breach.

    checks: {"encoder_outputs": count, "default_vs_pooled": max |diff|,
    "last_layer_vs_sequence": max |diff|}, None entries not checkable. The same
    tensors must come back, so the differences must be exactly 0.
    expected_outputs: the `encoder_outputs` entries the stored layers imply, or None.
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
    elif expected_outputs is not None and count != expected_outputs:
        problems.append(f"`encoder_outputs` has {count} entries where the stored layers imply {expected_outputs}")
    if checks["last_layer_vs_sequence"] is not None and checks["last_layer_vs_sequence"] != 0:
        problems.append("the last `encoder_outputs` entry differs from sequence_output "
                        f"(max |diff| {checks['last_layer_vs_sequence']:.3g})")
    return problems


def compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
            kernel: np.ndarray | None, bias: np.ndarray | None,
            recover: Callable[[], Recovery] | None = None, problems: Sequence[str] = (),
            note: str | None = None, structure: Structure | None = None) -> Comparison:
    """Decides what pooled_output [B, H] is, given sequence_output [B, S, H].

    recover: runs a black-box fit (recovery.py), called only on a mismatch that
    no look-alike explains; it tells POOLER_WEIGHTS_DIFFER (tanh of another
    affine map) from UNEXPLAINED, and the result keeps it.
    problems: breaches of the module's own output contract (interface_problems);
    they turn a match into INCONSISTENT_OUTPUTS and are named in any reason.
    note: what the stored pooler is (pooler_note of kernel, bias), said with a match;
    a fact of the weights, so callers work it out once, not per batch.
    structure: the residual-structure test on these texts and more (structure.py);
    where the bound holds everywhere, a structure it finds makes POOLER_WEIGHTS_DIFFER.
    """
    c = _compare(pooled, sequence_output, input_mask, kernel, bias, recover, note)
    if structure is not None and kernel is not None:
        c = _judge_structure(c, structure)
    if not problems:
        return c
    breach = "the module's outputs break Model Garden's export checks: " + "; ".join(problems)
    if c.verdict == MATCHES_POOLER:
        return dataclasses.replace(c, verdict=INCONSISTENT_OUTPUTS, reason=f"{c.reason}, but {breach}")
    return dataclasses.replace(c, reason=f"{c.reason}; also, {breach}")


def _compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
             kernel: np.ndarray | None, bias: np.ndarray | None,
             recover: Callable[[], Recovery] | None, note: str | None) -> Comparison:
    cls = sequence_output[:, 0, :]
    precision = precision_of(pooled, sequence_output)
    saturated = float(np.mean(np.abs(pooled) > SATURATED))
    vs_cls = metrics(pooled, cls)
    vs_rebuilt = vs_rebuilt32 = tol = ratio = outside = rebuilt = per_text = None
    if kernel is not None and bias is not None:
        kernel, bias = as_computed(kernel, bias, precision)
        rebuilt = rebuild(cls, kernel, bias)
        bound = pooler_error_bound(cls, kernel, bias, precision)
        excess = np.abs(pooled.astype(np.float64) - rebuilt) / bound
        vs_rebuilt = metrics(pooled, rebuilt)
        vs_rebuilt32 = metrics(pooled, rebuild(cls, kernel, bias, np.float32))
        tol, ratio, outside = float(bound.max()), float(excess.max()), int(np.sum(excess > 1.0))
        per_text = excess.max(axis=1)
        if outside == 0:
            reason = (f"pooled_output = tanh(cls · W + b) within the {precision} bound "
                      f"everywhere (worst element at {ratio:.3g} of its bound)")
            if note:
                reason += f"; {note}"
            if saturated > WEAK_WHEN_SATURATED:
                reason += (f"; but {saturated:.0%} of its elements are saturated (|pooled| > "
                           f"{SATURATED}), where tanh hides changes in W: the check is weak there")
            return Comparison(vs_cls, vs_rebuilt, vs_rebuilt32, tol, ratio, outside, per_text,
                              rebuilt, MATCHES_POOLER, reason, saturated, None, note, precision=precision)
    verdict, reason = _what_else(pooled, cls, sequence_output, input_mask)
    recovered = None
    if verdict == UNEXPLAINED:
        recovered = recover() if recover is not None else None
        verdict, reason = _mismatch(kernel is not None, outside, pooled.size, ratio, vs_rebuilt,
                                    recovered, recover is not None, precision)
        if kernel is not None:
            reason += _other_activation(pooled, cls, kernel, bias, precision)
    return Comparison(vs_cls, vs_rebuilt, vs_rebuilt32, tol, ratio, outside, per_text, rebuilt,
                      verdict, reason, saturated, recovered, None, precision=precision)


def _judge_structure(c: Comparison, s: Structure) -> Comparison:
    c = dataclasses.replace(c, structure=s)
    if c.verdict != MATCHES_POOLER:
        return c
    verdict, reason = judge_structure(s, c.worst_bound_ratio, c.reason, c.precision)
    return dataclasses.replace(c, verdict=verdict, reason=reason)


def judge_structure(s: Structure, worst_ratio: float, reason: str,
                    precision: str = "float32") -> tuple[str, str]:
    """(verdict, reason) where the bound holds everywhere and `reason` says so.

    The bound is a proof and loose; a residual shaped like a changed W[i, j] is caught
    below it (structure.py). Corpus mode judges its whole run with this too.
    """
    found = (f"column {s.col}'s residual follows cls[:, {s.row}] across {s.texts} texts, "
             f"t = {s.t:.3g}, false-alarm probability {s.false_alarm:.2g} over {s.tested} pairs")
    if not s.differs:
        return MATCHES_POOLER, f"{reason}; no residual has the shape of a changed weight (strongest: {found})"
    return POOLER_WEIGHTS_DIFFER, (
        f"pooled_output is within the {precision} bound of tanh(cls · W + b) everywhere (worst "
        f"element at {worst_ratio:.3g} of its bound), but its residual has the shape "
        f"of a changed weight, which rounding does not leave: {found} (below {ALPHA:g}); "
        f"the graph's W[{s.row}, {s.col}] differs from the stored one by about {s.delta:+.2g}")


def pooler_note(kernel: np.ndarray, bias: np.ndarray) -> str | None:
    """A matching pooler can still be no trained transform: say so.

    W = I and b = 0 within float32 rounding: pooled_output = tanh(cls), as TF Hub's
    ELECTRA and BERT Experts ship it. b exactly 0 alone: a pooler never trained
    with a bias (the embedded MiniLM's, trained with mean pooling).
    """
    identity = np.eye(kernel.shape[0], dtype=np.float64)
    if np.all(np.abs(kernel - identity) <= U32) and np.all(np.abs(bias) <= U32):
        return ("the pooler is the identity (W = I, b = 0): pooled_output = tanh(cls), no trained "
                "transform")
    if not np.any(bias):
        return f"the pooler bias is exactly zero (all {bias.size} values)"
    return None


def _mismatch(has_weights: bool, outside: int | None, size: int, ratio: float | None,
              vs_rebuilt: Metrics | None, recovered: Recovery | None,
              tried: bool, precision: str = "float32") -> tuple[str, str]:
    """Neither the stored pooler nor a look-alike: what the outputs still say."""
    affine = recovered is not None and recovered.explains
    if not has_weights:
        reason = "the module stores no pooler weights by any known name"
        if affine:
            reason += (", yet pooled_output is tanh of an affine map of cls "
                       f"(recovered from outputs: {recovered.summary()})")
        return NO_POOLER_WEIGHTS, reason
    reason = (f"{outside} of {size} elements exceed the {precision} bound for tanh(cls · W + b) "
              f"with the stored weights (worst at {ratio:.3g}x its bound, max |diff| "
              f"{vs_rebuilt.max_abs:.3g}); pooled is neither cls nor the mean of the tokens")
    if recovered is None:
        return UNEXPLAINED, reason + ("" if tried else "; recovery (skipped) tests whether it is "
                                      "tanh of another affine map")
    if affine:
        return POOLER_WEIGHTS_DIFFER, reason + f"; it is tanh of another affine map of cls: {recovered.summary()}"
    return UNEXPLAINED, reason + f"; nor is it tanh of any affine map of cls: {recovered.summary()}"


def _other_activation(pooled: np.ndarray, cls: np.ndarray, kernel: np.ndarray,
                      bias: np.ndarray, precision: str = "float32") -> str:
    """Names the activation if pooled is the stored dense layer under another one."""
    z = cls.astype(np.float64) @ kernel + bias
    bound = pooler_error_bound(cls, kernel, bias, precision)
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
