"""Assertions for other projects' test suites: a BERT module's pooled_output is
tanh(cls · W + b) with its own stored pooler weights (assert_pooler_matches); two models'
pooled outputs agree at every stage (assert_same_pooler).

    from tfhub_pooling.testing import assert_pooler_matches

    def test_exported_bert_has_a_real_pooler():
        assert_pooler_matches("exports/bert_tf1_hub")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tfhub_pooling.api import compare, verify
from tfhub_pooling.reports import parting, render, words
from tfhub_pooling.sides import Side
from tfhub_pooling.study.parting import Parting
from tfhub_pooling.study.results import VerifyResult
from tfhub_pooling.study.texts import Text


def assert_pooler_matches(handle: str | None = None, texts: Sequence[Text] | None = None,
                          **verify_kwargs: Any) -> VerifyResult:
    """Runs verify(); raises AssertionError with the verdict and figures unless it matches.

    Extra keyword arguments go to tfhub_pooling.verify (max_seq_length, preprocess,
    recover_weights, ...). Returns the result for further checks.
    """
    __tracebackhide__ = True    # pytest shows the caller's line, not this function's source
    r = verify(handle, texts, **verify_kwargs)
    if not r.ok:
        c = r.comparison
        figures = f"max |pooled - cls| {c.pooled_vs_cls.max_abs:.4g}"
        if c.rebuild is not None:
            figures += (f", max |pooled - tanh(cls·W+b)| {c.rebuild.pooled_vs_rebuilt.max_abs:.4g} "
                        f"(worst element at {c.rebuild.worst_bound_ratio:.3g}x its {c.precision} bound, "
                        f"{c.rebuild.elements_outside} elements outside)")
        # The verdict first: pytest's short summary keeps only the message's start.
        raise AssertionError(f"{r.verdict}: {words.reason(c)}; {figures}; module {r.module.handle}; "
                             f"pooler: {render.pooler_words(r.pooler) if r.pooler else r.pooler_search}")
    return r


def assert_same_pooler(a: str | Side | None, b: str | Side | None, texts: Sequence[Text] | None = None,
                       max_seq_length: int | None = None) -> Parting:
    """Runs compare(); raises AssertionError naming the first stage where A and B part,
    with its figure and finding, unless they agree. Returns the comparison."""
    __tracebackhide__ = True
    p = compare(a, b, texts, max_seq_length)
    if not p.agree:
        s = next(s for s in p.stages if s.status == "parts")
        raise AssertionError(f"{p.verdict}: {parting.stage_words(s)}; max |A - B| {s.max_abs}, bound {s.bound}; "
                             f"A {p.a.module.handle} ({p.a.verdict}), B {p.b.module.handle} ({p.b.verdict})")
    return p
