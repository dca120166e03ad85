"""The study on real pretrained weights and on a random small module."""

from __future__ import annotations

import numpy as np
import pytest

from tfhub_pooling import api
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import words
from tfhub_pooling.study import stored_pooler


@pytest.mark.parametrize("which", ["default", "small"])
def test_pooled_is_the_rebuilt_pooler_and_not_cls(which, default_loaded, small_module_path):
    handle = None if which == "default" else small_module_path
    r = api.verify(handle, module=default_loaded if which == "default" else None)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.exit_code == 0
    assert r.comparison.rebuild.pooled_vs_rebuilt.max_abs <= r.comparison.rebuild.tolerance_max
    assert r.comparison.rebuild.worst_bound_ratio <= 1.0
    assert r.comparison.pooled_vs_cls.max_abs > 0.1          # the question's observation
    assert (r.inputs.input_ids[:, 0] == 101).all()           # cls is the [CLS] token's vector
    # The mission in one line: the rebuilt vector is pooled_output, cls is not.
    assert np.abs(r.pooled_output - r.rebuilt).max() < 1e-5 < 0.1 < np.abs(r.pooled_output - r.cls).max()


def test_default_module_reads_the_pooler_by_its_google_research_name(default_loaded):
    r = api.verify(module=default_loaded)
    assert r.pooler.kernel_name == "bert/pooler/dense/kernel"
    assert r.pooler.bias_name == "bert/pooler/dense/bias"
    assert r.pooler.kernel.shape == (384, 384) and r.pooler.bias.shape == (384,)
    assert r.pooler.checkpoint == stored_pooler.CheckpointCheck("matches", ("bert/pooler/dense/kernel",
                                                                            "bert/pooler/dense/bias"))
    assert r.pooler.source == "module variables"
    assert r.module.format == "tf1-hub" and r.module.signature == "tokens"


def test_pooler_weights_are_the_shipped_ones(default_loaded, minilm_dir):
    """The module's pooler is the package's pooler.dense, transposed to [in, out]."""
    from safetensors.numpy import load_file
    raw = load_file(str(minilm_dir / "model.safetensors"))
    r = api.verify(module=default_loaded)
    assert np.array_equal(r.pooler.kernel, raw["pooler.dense.weight"].T)
    assert np.array_equal(r.pooler.bias, raw["pooler.dense.bias"])


def test_a_wrong_kernel_is_caught(default_loaded):
    """The verifier can say no: same outputs, a kernel off by 1e-3 in one element."""
    r = api.verify(module=default_loaded)
    kernel = r.pooler.kernel.copy()
    kernel[0, 0] += 1e-3
    c = comparison.compare(r.pooled_output, r.sequence_output, r.inputs.input_mask, kernel, r.pooler.bias)
    assert c.verdict != comparison.MATCHES_POOLER
    assert c.rebuild.elements_outside >= 1
