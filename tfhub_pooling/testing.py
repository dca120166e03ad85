"""An assertion for other projects' test suites: a BERT module's pooled_output is
tanh(cls · W + b) with its own stored pooler weights.

    from tfhub_pooling.testing import assert_pooler_matches

    def test_exported_bert_has_a_real_pooler():
        assert_pooler_matches("exports/bert_tf1_hub")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tfhub_pooling.api import verify
from tfhub_pooling.reports import render
from tfhub_pooling.study.pipeline import VerifyResult
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
        raise AssertionError(f"{r.verdict}: {c.reason}; {figures}; module {r.module.handle}; "
                             f"pooler: {render.pooler_words(r.pooler) if r.pooler else r.pooler_search}")
    return r
