"""The verdict: what pooled_output is, given the module's outputs and its stored
pooler weights, judged element by element against the rounding bound of bounds.py,
and, where that bound holds, by the residual-structure test of structure.py.

A Comparison is data: the verdict, the figures it rests on, and its findings (what each
check measured, against what bound, on how many elements). The words are the
reporters' (reports/words.py)."""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Sequence

import numpy as np

from tfhub_pooling.numerics.bounds import (
    U32,
    Metrics,
    as_computed,
    gamma,
    masked_mean,
    merge_metrics,
    metrics,
    pooler_error_bound,
    precision_of,
    rebuild,
)
from tfhub_pooling.numerics.recovery import Recovery
from tfhub_pooling.numerics.structure import ALPHA, Structure

# Verdicts and their exit codes (README, "What the verdict means"; docs/errors.md).
# Where |pooled| > SATURATED, tanh' < 0.002: a change in W barely moves pooled_output,
# so a match there says little. Above this share of elements, a finding says so.
SATURATED = 0.999
WEAK_WHEN_SATURATED = 0.5

class Verdict(enum.StrEnum):
    MATCHES_POOLER = "MATCHES_POOLER"
    EQUALS_CLS = "EQUALS_CLS"
    MEAN_POOLED = "MEAN_POOLED"
    POOLER_WEIGHTS_DIFFER = "POOLER_WEIGHTS_DIFFER"
    NO_POOLER_WEIGHTS = "NO_POOLER_WEIGHTS"
    UNEXPLAINED = "UNEXPLAINED"
    INCONSISTENT_OUTPUTS = "INCONSISTENT_OUTPUTS"


MATCHES_POOLER = Verdict.MATCHES_POOLER
EQUALS_CLS = Verdict.EQUALS_CLS
MEAN_POOLED = Verdict.MEAN_POOLED
POOLER_WEIGHTS_DIFFER = Verdict.POOLER_WEIGHTS_DIFFER
NO_POOLER_WEIGHTS = Verdict.NO_POOLER_WEIGHTS
UNEXPLAINED = Verdict.UNEXPLAINED
INCONSISTENT_OUTPUTS = Verdict.INCONSISTENT_OUTPUTS
# What each verdict means, one line: the definition --help's exit-code table prints.
VERDICT_MEANINGS = {
    MATCHES_POOLER: "pooled_output = tanh(cls · W + b) with the stored pooler weights",
    EQUALS_CLS: "pooled_output is the [CLS] vector itself; no pooler was applied",
    MEAN_POOLED: "pooled_output is the mean of the tokens",
    POOLER_WEIGHTS_DIFFER: "tanh of a dense layer, but not with the stored weights",
    NO_POOLER_WEIGHTS: "the module stores no pooler weights by any known name",
    UNEXPLAINED: "none of the above",
    INCONSISTENT_OUTPUTS: "the pooler matches, but the outputs break the format's own contract",
}
# What a pooled_output can be instead of the pooler.
LOOK_ALIKES = (EQUALS_CLS, MEAN_POOLED)
# What a matching pooler can be that is no trained transform (pooler_note).
IDENTITY_POOLER, ZERO_BIAS = "identity", "zero-bias"
# The checks a verdict rests on (Finding.check).
CHECKS = ("stored-weights", "pooler-bound", "look-alike", "activation", "structure", "recovery", "saturation",
          "pooler-note", "contract")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One check a verdict rests on: whether what it looks for holds, and its figure against
    its bound, on how many elements; reporters make the words."""

    check: str                       # CHECKS
    holds: bool                      # stored-weights: stored; pooler-bound: within everywhere; look-alike,
                                     # activation: it is one; structure: a changed weight's shape; recovery:
                                     # tanh of an affine map; saturation, pooler-note, contract: present
    measured: float | None = None    # pooler-bound: the worst element's share of its bound; structure: the
                                     # false-alarm probability; recovery: held-out max |diff|; saturation: share
    bound: float | None = None       # what `measured` is held to
    elements: int | None = None      # pooler-bound: elements outside; structure: pairs tested
    of: int | None = None            # out of how many
    subject: str | None = None       # the look-alike, the activation, W[i, j], the note, the breach, a precision


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
class Rebuild:
    """tanh(cls · W + b) from the stored weights, and how pooled_output stands to it:
    what a comparison has only where the module stores a pooler."""

    pooled_vs_rebuilt: Metrics              # against the float64 rebuild
    pooled_vs_rebuilt32: Metrics            # the same rebuild in float32
    tolerance_max: float                    # the largest per-element bound
    worst_bound_ratio: float                # max |pooled - rebuilt| / bound; <= 1 matches
    elements_outside: int                   # elements beyond their bound
    per_text_bound_ratio: np.ndarray        # [B] each text's worst element / its bound
    rebuilt: np.ndarray | None              # tanh(cls · W + b) in float64 [B, H]; None in a fold


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    pooled_vs_cls: Metrics
    rebuild: Rebuild | None                 # None without pooler weights
    verdict: Verdict
    saturated: float                        # share of pooled elements with |value| > SATURATED
    elements: int                           # B · H
    width: int                              # H
    precision: str = "float32"              # what the pooler ran in (bounds.precision_of)
    pooler_note: str | None = None          # IDENTITY_POOLER or ZERO_BIAS, where a matching pooler is one
    structure: Structure | None = None      # the residual-structure test, where it ran
    problems: tuple[str, ...] = ()          # breaches of the module's output contract (study/interface.py)
    look_alike: Verdict | None = None       # the LOOK_ALIKES member pooled_output is, where not the pooler
    other_activation: str | None = None     # "no activation" or "relu": the stored dense layer under it
    needs_fit: bool = False                 # a mismatch no look-alike explains: a fit would settle it
    recovery: Recovery | None = None        # the black-box fit, once conclude() has it

    @property
    def exit_code(self) -> int:
        return VERDICT_EXIT_CODES[self.verdict]

    @property
    def matched(self) -> bool:
        """Within the bound everywhere, with the stored weights."""
        return self.rebuild is not None and self.rebuild.elements_outside == 0

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The checks the verdict rests on, in the order they were made."""
        found = [Finding("stored-weights", self.rebuild is not None)]
        r = self.rebuild
        if r is not None:
            found.append(Finding("pooler-bound", r.elements_outside == 0, r.worst_bound_ratio, 1.0,
                                 r.elements_outside, self.elements, self.precision))
        if not self.matched:
            found.append(Finding("look-alike", self.look_alike is not None, subject=self.look_alike))
        if self.other_activation is not None:
            found.append(Finding("activation", True, subject=self.other_activation))
        s = self.structure
        if s is not None:
            found.append(Finding("structure", s.differs, s.false_alarm, ALPHA, s.tested,
                                 subject=f"W[{s.row}, {s.col}]"))
        if self.needs_fit:
            fit = self.recovery
            found.append(Finding("recovery", fit is not None and fit.explains,
                                 None if fit is None else fit.held_out_max_abs, subject=None if fit else "skipped"))
        if self.matched and self.saturated > WEAK_WHEN_SATURATED:
            found.append(Finding("saturation", True, self.saturated, WEAK_WHEN_SATURATED))
        if self.pooler_note is not None:
            found.append(Finding("pooler-note", True, subject=self.pooler_note))
        found += [Finding("contract", True, subject=p) for p in self.problems]
        return tuple(found)


def compare(pooled: np.ndarray, sequence_output: np.ndarray, input_mask: np.ndarray,
            kernel: np.ndarray | None, bias: np.ndarray | None, problems: Sequence[str] = (),
            note: str | None = None, arithmetic: str | None = None) -> Comparison:
    """Decides what pooled_output [B, H] of one batch is, given sequence_output [B, S, H].

    problems: breaches of the module's own output contract (study/interface.py);
    they turn a match into INCONSISTENT_OUTPUTS.
    note: what the stored pooler is (pooler_note of kernel, bias), kept with a match;
    a fact of the weights, so callers work it out once, not per batch.
    arithmetic: the precision the pooler ran in where the module says it (bounds.INT8_DYNAMIC
    for a LiteRT hybrid kernel); None: read off the outputs' dtypes (precision_of).
    A mismatch that no look-alike explains comes back with needs_fit: a black-box fit
    (recovery.py) and conclude() tell POOLER_WEIGHTS_DIFFER from UNEXPLAINED.
    """
    cls = sequence_output[:, 0, :]
    precision = arithmetic or precision_of(pooled, sequence_output)
    saturated = float(np.mean(np.abs(pooled) > SATURATED))
    figures = None
    if kernel is not None and bias is not None:
        kernel, bias = as_computed(kernel, bias, precision)
        figures = _rebuild(pooled, cls, kernel, bias, precision)
    matched = figures is not None and figures.elements_outside == 0
    look_alike = None if matched else _look_alike(pooled, cls, sequence_output, input_mask)
    other = None
    if not matched and look_alike is None and kernel is not None and bias is not None:
        other = _other_activation(pooled, cls, kernel, bias, precision)
    c = _judged(pooled_vs_cls=metrics(pooled, cls), rebuild=figures, saturated=saturated,
                elements=int(pooled.size), width=int(pooled.shape[1]), precision=precision, note=note,
                look_alike=look_alike, other_activation=other)
    return _with_problems(c, tuple(problems))


def merge(parts: Sequence[Comparison], problems: Sequence[str] | None = None, structure: Structure | None = None,
          rows: bool = True) -> Comparison:
    """Batches' comparisons as one over all their texts, judged as compare() judges one.

    The batches' figures fold exactly (maxima, sums, element-weighted means); a look-alike
    holds over all texts where it holds in every batch.
    problems: the breaches of the merged outputs (study/interface.py), which replace the
    batches' own; None keeps the batches' own (a running fold).
    structure: the residual-structure test over these texts and more (structure.py); where
    the bound holds everywhere, a structure it finds makes POOLER_WEIGHTS_DIFFER.
    rows: keep the per-text figures and the rebuilt vectors (verify), or only the totals
    (corpus mode's running fold, whose memory stays flat).
    """
    if not parts:
        raise ValueError("merge needs at least one comparison")
    weights = [p.elements for p in parts]
    rebuilds = [p.rebuild for p in parts if p.rebuild is not None]
    # The pooler weights are the module's: every batch has a rebuild, or none has.
    figures = _merge_rebuilds(rebuilds, weights, rows) if len(rebuilds) == len(parts) else None
    alike = {p.look_alike for p in parts}
    look_alike = alike.pop() if len(alike) == 1 else None
    activations = {p.other_activation for p in parts}
    c = _judged(pooled_vs_cls=merge_metrics([p.pooled_vs_cls for p in parts], weights, rows),
                rebuild=figures, elements=sum(weights), width=parts[0].width,
                saturated=sum(p.saturated * p.elements for p in parts) / sum(weights),
                precision=parts[0].precision, note=next((p.pooler_note for p in parts if p.pooler_note), None),
                look_alike=look_alike, other_activation=activations.pop() if len(activations) == 1 else None)
    if structure is not None and figures is not None:
        c = with_structure(c, structure)
    if problems is None:         # the parts' own breaches, each once
        problems = tuple(dict.fromkeys(b for p in parts for b in p.problems))
    return _with_problems(c, tuple(problems))


def _merge_rebuilds(parts: Sequence[Rebuild], elements: Sequence[int], rows: bool) -> Rebuild:
    kept = rows and all(r.rebuilt is not None for r in parts)
    return Rebuild(
        pooled_vs_rebuilt=merge_metrics([r.pooled_vs_rebuilt for r in parts], elements, rows),
        pooled_vs_rebuilt32=merge_metrics([r.pooled_vs_rebuilt32 for r in parts], elements, rows),
        tolerance_max=max(r.tolerance_max for r in parts),
        worst_bound_ratio=max(r.worst_bound_ratio for r in parts),
        elements_outside=sum(r.elements_outside for r in parts),
        per_text_bound_ratio=np.concatenate([r.per_text_bound_ratio for r in parts]) if rows else np.empty(0),
        rebuilt=np.concatenate([r.rebuilt for r in parts if r.rebuilt is not None]) if kept else None)


def conclude(c: Comparison, fit: Recovery) -> Comparison:
    """The comparison's verdict once the black-box fit that c.needs_fit asked for is in."""
    if not c.needs_fit:
        return c
    return _with_problems(dataclasses.replace(c, verdict=_mismatch(c, fit), recovery=fit), c.problems)


def _with_problems(c: Comparison, problems: tuple[str, ...]) -> Comparison:
    c = dataclasses.replace(c, problems=problems)
    if problems and c.verdict == MATCHES_POOLER:
        return dataclasses.replace(c, verdict=INCONSISTENT_OUTPUTS)
    return c


def _rebuild(pooled: np.ndarray, cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
             precision: str) -> Rebuild:
    rebuilt = rebuild(cls, kernel, bias)
    bound = pooler_error_bound(cls, kernel, bias, precision)
    excess = np.abs(pooled.astype(np.float64) - rebuilt) / bound
    return Rebuild(pooled_vs_rebuilt=metrics(pooled, rebuilt),
                   pooled_vs_rebuilt32=metrics(pooled, rebuild(cls, kernel, bias, np.float32)),
                   tolerance_max=float(bound.max()), worst_bound_ratio=float(excess.max()),
                   elements_outside=int(np.sum(excess > 1.0)), per_text_bound_ratio=excess.max(axis=1),
                   rebuilt=rebuilt)


def _judged(*, pooled_vs_cls: Metrics, rebuild: Rebuild | None, saturated: float, elements: int, width: int,
            precision: str, note: str | None, look_alike: Verdict | None,
            other_activation: str | None) -> Comparison:
    """The verdict on a comparison's figures: the stored pooler within its bound everywhere,
    else the look-alike that holds, else a mismatch a fit would settle."""
    made = functools.partial(Comparison, pooled_vs_cls=pooled_vs_cls, rebuild=rebuild, saturated=saturated,
                             elements=elements, width=width, precision=precision)
    if rebuild is not None and rebuild.elements_outside == 0:
        return made(verdict=MATCHES_POOLER, pooler_note=note)
    if look_alike is not None:
        return made(verdict=look_alike, look_alike=look_alike)
    c = made(verdict=UNEXPLAINED, needs_fit=True, other_activation=other_activation)
    return dataclasses.replace(c, verdict=_mismatch(c, None))


def with_structure(c: Comparison, s: Structure) -> Comparison:
    """c with the residual-structure test over its texts: where the bound holds everywhere,
    a residual shaped like a changed W[i, j] (caught below the bound, structure.py) makes
    POOLER_WEIGHTS_DIFFER. Corpus mode judges its whole run with this too."""
    c = dataclasses.replace(c, structure=s)
    if c.verdict != MATCHES_POOLER or c.rebuild is None or not s.differs:
        return c
    return dataclasses.replace(c, verdict=POOLER_WEIGHTS_DIFFER)


def pooler_note(kernel: np.ndarray, bias: np.ndarray) -> str | None:
    """What a matching pooler can still be that is no trained transform.

    IDENTITY_POOLER: W = I and b = 0 within float32 rounding, pooled_output = tanh(cls), as
    TF Hub's ELECTRA and BERT Experts ship it. ZERO_BIAS: b exactly 0 alone, a pooler never
    trained with a bias (the embedded MiniLM's, trained with mean pooling).
    """
    identity = np.eye(kernel.shape[0], dtype=np.float64)
    if np.all(np.abs(kernel - identity) <= U32) and np.all(np.abs(bias) <= U32):
        return IDENTITY_POOLER
    if not np.any(bias):
        return ZERO_BIAS
    return None


def _mismatch(c: Comparison, recovered: Recovery | None) -> Verdict:
    """Neither the stored pooler nor a look-alike: what the outputs, and the fit, still say."""
    if c.rebuild is None:
        return NO_POOLER_WEIGHTS
    return POOLER_WEIGHTS_DIFFER if recovered is not None and recovered.explains else UNEXPLAINED


def _other_activation(pooled: np.ndarray, cls: np.ndarray, kernel: np.ndarray,
                      bias: np.ndarray, precision: str = "float32") -> str | None:
    """The activation, if pooled is the stored dense layer under another one than tanh."""
    z = cls.astype(np.float64) @ kernel + bias
    bound = pooler_error_bound(cls, kernel, bias, precision)
    for name, value in (("no activation", z), ("relu", np.maximum(z, 0.0))):
        if np.all(np.abs(pooled - value) <= bound):
            return name
    return None


def _look_alike(pooled: np.ndarray, cls: np.ndarray, sequence_output: np.ndarray,
                input_mask: np.ndarray) -> Verdict | None:
    """The look-alike (LOOK_ALIKES) a pooled_output is instead of the pooler, if any."""
    # Copying cls is exact up to one rounding; averaging S tokens costs gamma_S.
    if np.all(np.abs(pooled - cls) <= U32 * np.maximum(np.abs(cls), 1.0)):
        return EQUALS_CLS
    seq_len = sequence_output.shape[1]
    mean = masked_mean(sequence_output, input_mask)
    mean_abs = masked_mean(np.abs(sequence_output), input_mask)
    if np.all(np.abs(pooled - mean) <= gamma(seq_len + 1) * mean_abs + U32):
        return MEAN_POOLED
    return None
