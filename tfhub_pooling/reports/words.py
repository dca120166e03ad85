"""The verdict in words: the reason every report gives, made from a Comparison's data
(numerics/comparison.py) and nothing else, so the terminal, Markdown, JSON and the
assertions say the same thing."""

from __future__ import annotations

from tfhub_pooling.numerics import comparison
from tfhub_pooling.numerics.comparison import Comparison
from tfhub_pooling.numerics.recovery import CLIP, Recovery
from tfhub_pooling.numerics.structure import ALPHA, Structure

LOOK_ALIKE_WORDS = {
    comparison.EQUALS_CLS: "pooled_output is the [CLS] vector itself; no dense layer or tanh was applied",
    comparison.MEAN_POOLED: "pooled_output is the mean of sequence_output over the real tokens",
}
NOTE_WORDS = {
    comparison.IDENTITY_POOLER: "the pooler is the identity (W = I, b = 0): pooled_output = tanh(cls), no trained "
                                "transform",
    comparison.ZERO_BIAS: "the pooler bias is exactly zero (all {width} values)",
}


def note_words(c: Comparison) -> str | None:
    return None if c.pooler_note is None else NOTE_WORDS[c.pooler_note].format(width=c.width)


def reason(c: Comparison) -> str:
    """Why the verdict is what it is, in one sentence."""
    if c.matched:
        words = matched_words(c.precision, c.rebuild.worst_bound_ratio if c.rebuild else 0.0)
        note = note_words(c)
        if note:
            words += f"; {note}"
        if c.saturated > comparison.WEAK_WHEN_SATURATED:
            words += (f"; but {c.saturated:.0%} of its elements are saturated (|pooled| > "
                      f"{comparison.SATURATED}), where tanh hides changes in W: the check is weak there")
        if c.structure is not None:
            words = structure_words(c.structure, words, c.precision,
                                    c.rebuild.worst_bound_ratio if c.rebuild else 0.0)
    elif c.look_alike is not None:
        words = LOOK_ALIKE_WORDS[c.look_alike]
    else:
        words = mismatch_words(c)
    return words + problem_words(c)


def matched_words(precision: str, worst_ratio: float) -> str:
    return (f"pooled_output = tanh(cls · W + b) within the {precision} bound everywhere (worst element at "
            f"{worst_ratio:.3g} of its bound)")


def structure_words(s: Structure, matched: str, precision: str, worst_ratio: float) -> str:
    """A match's words, once the residual-structure test is in."""
    found = (f"column {s.col}'s residual follows cls[:, {s.row}] across {s.texts} texts, "
             f"t = {s.t:.3g}, false-alarm probability {s.false_alarm:.2g} over {s.tested} pairs")
    if not s.differs:
        return f"{matched}; no residual has the shape of a changed weight (strongest: {found})"
    return (f"pooled_output is within the {precision} bound of tanh(cls · W + b) everywhere (worst "
            f"element at {worst_ratio:.3g} of its bound), but its residual has the shape "
            f"of a changed weight, which rounding does not leave: {found} (below {ALPHA:g}); "
            f"the graph's W[{s.row}, {s.col}] differs from the stored one by about {s.delta:+.2g}")


def mismatch_words(c: Comparison) -> str:
    """Neither the stored pooler nor a look-alike: what the outputs, and the fit, say."""
    fit = c.recovery
    if c.rebuild is None:
        words = "the module stores no pooler weights by any known name"
        if fit is not None and fit.explains:
            words += f", yet pooled_output is tanh of an affine map of cls (recovered from outputs: {recovery_words(fit)})"
        return words
    r = c.rebuild
    words = (f"{r.elements_outside} of {c.elements} elements exceed the {c.precision} bound for "
             f"tanh(cls · W + b) with the stored weights (worst at {r.worst_bound_ratio:.3g}x its bound, "
             f"max |diff| {r.pooled_vs_rebuilt.max_abs:.3g}); pooled is neither cls nor the mean of the tokens")
    if fit is None:
        words += "; recovery (skipped) tests whether it is tanh of another affine map"
    elif fit.explains:
        words += f"; it is tanh of another affine map of cls: {recovery_words(fit)}"
    else:
        words += f"; nor is it tanh of any affine map of cls: {recovery_words(fit)}"
    if c.other_activation is not None:
        words += f"; it is the stored dense layer with {c.other_activation} instead of tanh"
    return words


def recovery_words(fit: Recovery) -> str:
    """What the black-box fit found (numerics/recovery.py)."""
    s = (f"fit on {fit.n_fit} texts ({fit.dropped} values with |pooled| > {CLIP} dropped), "
         f"held-out max |diff| {fit.held_out_max_abs:.2e} on {fit.n_held_out} texts")
    if fit.unfit_columns:
        s += f"; {fit.unfit_columns} column(s) too saturated to fit"
    if fit.stored_kernel_max_abs is not None:
        s += f"; max |W_recovered - W_stored| {fit.stored_kernel_max_abs:.2e}"
    if fit.differing:
        shown = ", ".join(f"W[{d.row}, {d.col}] {d.delta:+.3g} ({d.explained:.1%})" for d in fit.differing[:5])
        s += f"; {len(fit.differing)} column(s) differ from the stored weights: {shown}"
    return s


def problem_words(c: Comparison) -> str:
    if not c.problems:
        return ""
    breach = "the module's outputs break Model Garden's export checks: " + "; ".join(c.problems)
    return f", but {breach}" if c.verdict == comparison.INCONSISTENT_OUTPUTS else f"; also, {breach}"


def corpus_reason(c: Comparison, first_mismatch: tuple[int, int] | None) -> str:
    """A texts file's verdict, from its batches' comparisons merged (c) and where the first
    batch that did not match the pooler lies (its first and last line)."""
    words = reason(c)
    if c.matched:
        return "every batch: " + words
    if first_mismatch is not None:
        words += f"; first in the batch of lines {first_mismatch[0]} to {first_mismatch[1]}"
    return words
