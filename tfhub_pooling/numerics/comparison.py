"""The verdict: what pooled_output is, given the module's outputs and its stored
pooler weights, judged element by element against the rounding bound of bounds.py,
and, where that bound holds, by the residual-structure test of structure.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

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
VERDICT_MEANINGS = {
    MATCHES_POOLER: "pooled_output = tanh(cls · W + b) with the stored pooler weights",
    EQUALS_CLS: "pooled_output is the [CLS] vector itself; no pooler was applied",
    MEAN_POOLED: "pooled_output is the mean of the tokens",
    POOLER_WEIGHTS_DIFFER: "tanh of a dense layer, but not with the stored weights",
    NO_POOLER_WEIGHTS: "the module stores no pooler weights by any known name",
    UNEXPLAINED: "none of the above",
    INCONSISTENT_OUTPUTS: "the pooler matches, but the outputs break the format's own contract",
}
VERDICT_EXIT_CODES = {
    MATCHES_POOLER: 0,
    EQUALS_CLS: 10,
    MEAN_POOLED: 11,
    POOLER_WEIGHTS_DIFFER: 12,
    NO_POOLER_WEIGHTS: 13,
    UNEXPLAINED: 14,
    INCONSISTENT_OUTPUTS: 15,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
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
    elements: int                           # B · H
    precision: str = "float32"              # what the pooler ran in (bounds.precision_of)
    pooler_note: str | None = None          # what a matching pooler is: the identity, a zero bias
    structure: Structure | None = None      # the residual-structure test, where it ran
    problems: tuple[str, ...] = ()          # breaches of the module's output contract
    other_activation: str = ""              # the stored dense layer under another activation, said
    needs_fit: bool = False                 # a mismatch no look-alike explains: a fit would settle it
    recovery: Recovery | None = None        # the black-box fit, once conclude() has it

    @property
    def exit_code(self) -> int:
        return VERDICT_EXIT_CODES[self.verdict]


def compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
            kernel: np.ndarray | None, bias: np.ndarray | None, problems: Sequence[str] = (),
            note: str | None = None, structure: Structure | None = None) -> Comparison:
    """Decides what pooled_output [B, H] is, given sequence_output [B, S, H].

    problems: breaches of the module's own output contract (study/interface.py);
    they turn a match into INCONSISTENT_OUTPUTS and are named in any reason.
    note: what the stored pooler is (pooler_note of kernel, bias), said with a match;
    a fact of the weights, so callers work it out once, not per batch.
    structure: the residual-structure test on these texts and more (structure.py);
    where the bound holds everywhere, a structure it finds makes POOLER_WEIGHTS_DIFFER.
    A mismatch that no look-alike explains comes back with needs_fit: a black-box fit
    (recovery.py) and conclude() tell POOLER_WEIGHTS_DIFFER from UNEXPLAINED.
    """
    c = _compare(pooled, sequence_output, input_mask, kernel, bias, note)
    if structure is not None and kernel is not None:
        c = _judge_structure(c, structure)
    return _with_problems(c, tuple(problems))


def conclude(c: Comparison, fit: Recovery) -> Comparison:
    """The comparison's verdict once the black-box fit that c.needs_fit asked for is in."""
    if not c.needs_fit:
        return c
    verdict, reason = _mismatch(c, fit, tried=True)
    return _with_problems(dataclasses.replace(c, verdict=verdict, reason=reason, recovery=fit), c.problems)


def _with_problems(c: Comparison, problems: tuple[str, ...]) -> Comparison:
    c = dataclasses.replace(c, problems=problems)
    if not problems:
        return c
    breach = "the module's outputs break Model Garden's export checks: " + "; ".join(problems)
    if c.verdict == MATCHES_POOLER:
        return dataclasses.replace(c, verdict=INCONSISTENT_OUTPUTS, reason=f"{c.reason}, but {breach}")
    return dataclasses.replace(c, reason=f"{c.reason}; also, {breach}")


def _compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
             kernel: np.ndarray | None, bias: np.ndarray | None, note: str | None) -> Comparison:
    cls = sequence_output[:, 0, :]
    # The fields every comparison has, and the rebuild's, which stay None without pooler weights.
    common: dict[str, Any] = {
        "pooled_vs_cls": metrics(pooled, cls), "precision": precision_of(pooled, sequence_output),
        "saturated": float(np.mean(np.abs(pooled) > SATURATED)), "elements": int(pooled.size)}
    rebuilt_figures: dict[str, Any] = dict.fromkeys((
        "pooled_vs_rebuilt", "pooled_vs_rebuilt32", "tolerance_max", "worst_bound_ratio", "elements_outside",
        "per_text_bound_ratio", "rebuilt"))
    precision, saturated = common["precision"], common["saturated"]
    if kernel is not None and bias is not None:
        kernel, bias = as_computed(kernel, bias, precision)
        rebuilt = rebuild(cls, kernel, bias)
        bound = pooler_error_bound(cls, kernel, bias, precision)
        excess = np.abs(pooled.astype(np.float64) - rebuilt) / bound
        ratio, outside = float(excess.max()), int(np.sum(excess > 1.0))
        rebuilt_figures = {"pooled_vs_rebuilt": metrics(pooled, rebuilt),
                           "pooled_vs_rebuilt32": metrics(pooled, rebuild(cls, kernel, bias, np.float32)),
                           "tolerance_max": float(bound.max()), "worst_bound_ratio": ratio,
                           "elements_outside": outside, "per_text_bound_ratio": excess.max(axis=1),
                           "rebuilt": rebuilt}
        if outside == 0:
            reason = (f"pooled_output = tanh(cls · W + b) within the {precision} bound "
                      f"everywhere (worst element at {ratio:.3g} of its bound)")
            if note:
                reason += f"; {note}"
            if saturated > WEAK_WHEN_SATURATED:
                reason += (f"; but {saturated:.0%} of its elements are saturated (|pooled| > "
                           f"{SATURATED}), where tanh hides changes in W: the check is weak there")
            return Comparison(**common, **rebuilt_figures, verdict=MATCHES_POOLER, reason=reason,
                              pooler_note=note)
    verdict, reason = _what_else(pooled, cls, sequence_output, input_mask)
    c = Comparison(**common, **rebuilt_figures, verdict=verdict, reason=reason)
    if verdict != UNEXPLAINED:
        return c
    c = dataclasses.replace(c, needs_fit=True, other_activation=(
        _other_activation(pooled, cls, kernel, bias, precision) if kernel is not None and bias is not None else ""))
    verdict, reason = _mismatch(c, None, tried=False)
    return dataclasses.replace(c, verdict=verdict, reason=reason)


def _judge_structure(c: Comparison, s: Structure) -> Comparison:
    c = dataclasses.replace(c, structure=s)
    if c.verdict != MATCHES_POOLER or c.worst_bound_ratio is None:
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


def _mismatch(c: Comparison, recovered: Recovery | None, tried: bool) -> tuple[str, str]:
    """Neither the stored pooler nor a look-alike: what the outputs, and the fit, still say."""
    if c.pooled_vs_rebuilt is None:
        reason = "the module stores no pooler weights by any known name"
        if recovered is not None and recovered.explains:
            reason += (", yet pooled_output is tanh of an affine map of cls "
                       f"(recovered from outputs: {recovered.summary()})")
        return NO_POOLER_WEIGHTS, reason
    reason = (f"{c.elements_outside} of {c.elements} elements exceed the {c.precision} bound for "
              f"tanh(cls · W + b) with the stored weights (worst at {c.worst_bound_ratio:.3g}x its bound, "
              f"max |diff| {c.pooled_vs_rebuilt.max_abs:.3g}); pooled is neither cls nor the mean of the tokens")
    if recovered is None:
        verdict = UNEXPLAINED
        reason += "" if tried else "; recovery (skipped) tests whether it is tanh of another affine map"
    elif recovered.explains:
        verdict, reason = POOLER_WEIGHTS_DIFFER, reason + f"; it is tanh of another affine map of cls: {recovered.summary()}"
    else:
        verdict, reason = UNEXPLAINED, reason + f"; nor is it tanh of any affine map of cls: {recovered.summary()}"
    return verdict, reason + c.other_activation


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
