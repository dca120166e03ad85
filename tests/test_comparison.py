"""The rebuild, the error bound and the verdicts, on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfhub_pooling.numerics import bounds, comparison
from tfhub_pooling.reports import words


def test_tensorflow_tanh_stays_within_the_assumed_error():
    """The bound assumes TF's float32 tanh errs by at most TANH_ERROR_U units of roundoff."""
    x = np.linspace(-12, 12, 2_000_001).astype(np.float32)
    err = np.abs(tf.tanh(x).numpy().astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert err.max() <= bounds.TANH_ERROR_U * bounds.U32


def _case(seed=0, b=8, h=64, s=5):
    rng = np.random.default_rng(seed)
    seq = rng.standard_normal((b, s, h)).astype(np.float32)
    kernel = (rng.standard_normal((h, h)) * 0.2).astype(np.float32)
    bias = (rng.standard_normal(h) * 0.1).astype(np.float32)
    mask = np.ones((b, s), np.int32)
    mask[0, 3:] = 0
    return seq, mask, kernel, bias


def _tf_pooler(seq, kernel, bias):
    return tf.tanh(tf.matmul(seq[:, 0, :], kernel) + bias).numpy()


def test_float32_pooler_matches():
    seq, mask, kernel, bias = _case()
    c = comparison.compare(_tf_pooler(seq, kernel, bias), seq, mask, kernel, bias)
    assert c.verdict == comparison.MATCHES_POOLER
    assert c.exit_code == 0
    assert c.rebuild.pooled_vs_rebuilt.max_abs < 1e-6


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_a_half_precision_pooler_is_judged_in_its_own_precision(dtype):
    """As Keras mixed precision runs it: the float32 weights rounded to the compute
    dtype, the product and tanh in it. Within that precision's bound, and outside
    float32's, which the same outputs cast up would be judged by."""
    seq, mask, kernel, bias = _case()
    seq = tf.cast(seq, dtype).numpy()
    pooled = tf.tanh(tf.matmul(seq[:, 0, :], tf.cast(kernel, dtype)) + tf.cast(bias, dtype)).numpy()
    c = comparison.compare(pooled, seq, mask, kernel, bias)
    assert c.precision == dtype.name and c.verdict == comparison.MATCHES_POOLER, words.reason(c)
    as_float32 = comparison.compare(pooled.astype(np.float32), seq.astype(np.float32), mask, kernel, bias)
    assert as_float32.precision == "float32" and as_float32.verdict != comparison.MATCHES_POOLER


def test_perturbed_kernel_is_caught():
    seq, mask, kernel, bias = _case()
    graph_kernel = kernel.copy()
    graph_kernel[3, 5] += 1e-3
    c = comparison.compare(_tf_pooler(seq, graph_kernel, bias), seq, mask, kernel, bias)
    assert c.verdict == comparison.UNEXPLAINED
    assert c.exit_code == 14
    assert c.rebuild.elements_outside > 0 and c.needs_fit and c.recovery is None


def test_equals_cls():
    seq, mask, kernel, bias = _case()
    c = comparison.compare(seq[:, 0, :].copy(), seq, mask, kernel, bias)
    assert c.verdict == comparison.EQUALS_CLS and c.exit_code == 10


def test_mean_pooled():
    seq, mask, kernel, bias = _case()
    weights = mask[:, :, None].astype(np.float32)
    mean = tf.reduce_sum(seq * weights, axis=1) / tf.reduce_sum(weights, axis=1)
    c = comparison.compare(mean.numpy(), seq, mask, kernel, bias)
    assert c.verdict == comparison.MEAN_POOLED and c.exit_code == 11


def test_no_weights():
    seq, mask, kernel, bias = _case()
    c = comparison.compare(_tf_pooler(seq, kernel, bias), seq, mask, None, None)
    assert c.verdict == comparison.NO_POOLER_WEIGHTS and c.exit_code == 13
    assert c.rebuild is None


def test_bound_grows_with_magnitude_and_size():
    seq, _, kernel, bias = _case()
    cls = seq[:, 0, :]
    small = bounds.pooler_error_bound(cls, kernel, bias)
    assert np.all(bounds.pooler_error_bound(cls * 10, kernel, bias) > small)
    # The same sums over twice the terms (each term's half twice) round more: the bound says so.
    doubled = bounds.pooler_error_bound(np.concatenate([cls, cls], axis=1),
                                        np.concatenate([kernel, kernel]) / 2, bias)
    assert np.all(doubled > small)


def test_metrics_cosine_and_diffs():
    a = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    b = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
    m = bounds.metrics(a, b)
    assert m.per_text_cosine.tolist() == pytest.approx([0.0, 1.0])
    assert m.max_abs == 1.0 and m.mean_abs == pytest.approx(0.75)


def _split(pooled, seq, mask, at=3):
    """Two batches' comparison inputs: the first `at` texts, and the rest."""
    return [(pooled[:at], seq[:at], mask[:at]), (pooled[at:], seq[at:], mask[at:])]


@pytest.mark.parametrize("make, verdict", [
    (lambda seq, kernel, bias: _tf_pooler(seq, kernel, bias), comparison.MATCHES_POOLER),
    (lambda seq, kernel, bias: seq[:, 0, :].copy(), comparison.EQUALS_CLS),
    (lambda seq, kernel, bias: _tf_pooler(seq, kernel + 1e-3, bias), comparison.UNEXPLAINED),
])
def test_merged_batches_judge_as_one_comparison_over_all_texts(make, verdict):
    """verify merges the batch loop's comparisons: every figure and the verdict are
    what one comparison over all the texts says."""
    seq, mask, kernel, bias = _case(b=10)
    pooled = make(seq, kernel, bias)
    whole = comparison.compare(pooled, seq, mask, kernel, bias)
    merged = comparison.merge([comparison.compare(p, s, m, kernel, bias) for p, s, m in _split(pooled, seq, mask)])
    assert merged.verdict == whole.verdict == verdict
    assert [(f.check, f.holds, f.elements, f.of, f.subject) for f in merged.findings] == \
        [(f.check, f.holds, f.elements, f.of, f.subject) for f in whole.findings]
    assert merged.needs_fit == whole.needs_fit and merged.elements == whole.elements == pooled.size
    for a, b in ((merged.pooled_vs_cls, whole.pooled_vs_cls),
                 (merged.rebuild.pooled_vs_rebuilt, whole.rebuild.pooled_vs_rebuilt)):
        # float64 products of another batch size round otherwise, by ~1e-16 of the value
        for field in ("max_abs", "mean_abs", "min_cosine"):
            assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-9, abs=1e-15)
        np.testing.assert_allclose(a.per_text_max_abs, b.per_text_max_abs, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(merged.rebuild.rebuilt, whole.rebuild.rebuilt, rtol=1e-12, atol=1e-15)
    assert merged.rebuild.worst_bound_ratio == pytest.approx(whole.rebuild.worst_bound_ratio, rel=1e-9)
    assert merged.rebuild.elements_outside == whole.rebuild.elements_outside


def test_a_look_alike_in_one_batch_only_is_no_look_alike_of_the_whole():
    """One batch copies cls, the other runs the pooler: neither holds over all texts."""
    seq, mask, kernel, bias = _case(b=10)
    pooled = _tf_pooler(seq, kernel, bias)
    pooled[:3] = seq[:3, 0, :]
    parts = [comparison.compare(p, s, m, kernel, bias) for p, s, m in _split(pooled, seq, mask)]
    assert [p.verdict for p in parts] == [comparison.EQUALS_CLS, comparison.MATCHES_POOLER]
    merged = comparison.merge(parts)
    assert merged.verdict == comparison.compare(pooled, seq, mask, kernel, bias).verdict == comparison.UNEXPLAINED
    assert merged.needs_fit and merged.rebuild.elements_outside == parts[0].rebuild.elements_outside


def test_a_fold_keeps_totals_not_rows():
    """Corpus mode's running fold: the figures of every text, the memory of none."""
    seq, mask, kernel, bias = _case(b=10)
    pooled = _tf_pooler(seq, kernel, bias)
    parts = [comparison.compare(p, s, m, kernel, bias) for p, s, m in _split(pooled, seq, mask)]
    folded = comparison.merge([comparison.merge(parts[:1], rows=False), parts[1]], rows=False)
    assert folded.rebuild.rebuilt is None and folded.rebuild.per_text_bound_ratio.size == 0
    assert folded.pooled_vs_cls.per_text_max_abs.size == 0
    assert folded.rebuild.pooled_vs_rebuilt.as_dict() == comparison.merge(parts).rebuild.pooled_vs_rebuilt.as_dict()
    assert folded.verdict == comparison.MATCHES_POOLER and folded.elements == pooled.size
