"""tfhub-pooling: shows, with numbers, that a BERT module's pooled_output is
tanh(cls · W + b) with its own stored pooler weights, and that cls is not.

    from tfhub_pooling import verify
    result = verify()              # the embedded default module
    result.verdict, result.comparison.rebuild.pooled_vs_rebuilt.max_abs
"""

from __future__ import annotations

from typing import Any

__all__ = ["verify", "verify_corpus", "verify_many", "compare", "load", "inspect", "VerifyResult", "build_module"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m tfhub_pooling --help` answers without importing TensorFlow.
    if name in ("verify", "verify_corpus", "verify_many", "compare", "load", "inspect"):
        from tfhub_pooling import api
        return getattr(api, name)
    if name == "VerifyResult":
        from tfhub_pooling.study.results import VerifyResult
        return VerifyResult
    if name == "build_module":
        from tfhub_pooling.builder.build import build_module
        return build_module
    raise AttributeError(name)
