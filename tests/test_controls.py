"""Negative controls: the verifier tells a correct pooler from its look-alikes."""

from __future__ import annotations

import pytest

from tfhub_pooling import api, provision
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import UsageError
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import words


@pytest.fixture(scope="module")
def small_weights(small_hf_dir):
    return sources.from_hf_dir(small_hf_dir)


def _control_module(tmp_path_factory, w, control):
    dest = tmp_path_factory.mktemp("control") / control.kind
    return build.build_module(w, str(dest), control=control)


@pytest.mark.parametrize("control, verdict, code, finding", [
    (Control("identity"), comparison.EQUALS_CLS, 10, ("look-alike", comparison.EQUALS_CLS)),
    (Control("mean"), comparison.MEAN_POOLED, 11, ("look-alike", comparison.MEAN_POOLED)),
    (Control("activation", activation="none"), comparison.UNEXPLAINED, 14, ("activation", "no activation")),
    (Control("activation", activation="relu"), comparison.UNEXPLAINED, 14, ("activation", "relu")),
    (Control("hidden-weights"), comparison.NO_POOLER_WEIGHTS, 13, ("recovery", None)),
    (Control("perturbed", amount=0.05, row=3, col=7), comparison.POOLER_WEIGHTS_DIFFER, 12, ("recovery", None)),
])
def test_each_control_gets_its_verdict(control, verdict, code, finding, tmp_path_factory, small_weights):
    r = api.verify(_control_module(tmp_path_factory, small_weights, control))
    assert (r.verdict, r.exit_code) == (verdict, code), words.reason(r.comparison)
    assert finding in [(f.check, f.subject) for f in r.comparison.findings if f.holds]
    if control.kind == "perturbed":     # the fit names the element, and the reason says it
        moved = r.comparison.recovery.differing[0]
        assert (moved.row, moved.col) == (3, 7) and "W[3, 7] +0.05" in words.reason(r.comparison)


def test_a_mismatch_is_diagnosed_without_being_asked_and_says_what_it_cost(tmp_path_factory, small_weights,
                                                                           capsys):
    from tfhub_pooling import cli
    path = _control_module(tmp_path_factory, small_weights, Control("perturbed", amount=0.05, row=3, col=7))
    assert cli.main(["verify", "--handle", path]) == 12
    out = capsys.readouterr().out
    assert "recovery           black-box fit of tanh(cls · W + b) from outputs alone," in out
    assert "W[3, 7] +0.05" in out
    assert cli.main(["verify", "--handle", path, "--no-recover"]) == 14
    out = capsys.readouterr().out
    assert "recovery (skipped)" in out and "black-box fit" not in out


def test_a_match_never_pays_for_recovery(default_loaded):
    r = api.verify(module=default_loaded, texts=["Hello."])
    assert r.ok and r.comparison.recovery is None and r.recovery_seconds is None


def test_hidden_weights_module_stores_no_pooler(tmp_path_factory, small_weights):
    r = api.verify(_control_module(tmp_path_factory, small_weights, Control("hidden-weights")))
    assert r.pooler is None and "searched" in r.pooler_search
    assert not any("pooler" in v.name for v in api.load(r.module.path).variables)


def test_recovery_pinpoints_a_small_perturbation_in_the_real_module(tmp_path_factory, default_module_path):
    """The issue's sensitivity check: one element of MiniLM's kernel moved by 1e-3."""
    w = sources.from_hf_dir(provision.weights_dir())
    r = api.verify(_control_module(tmp_path_factory, w, Control("perturbed", amount=1e-3, row=0, col=0)))
    assert r.verdict == comparison.POOLER_WEIGHTS_DIFFER, words.reason(r.comparison)
    d = r.comparison.recovery.differing
    assert len(d) == 1 and (d[0].row, d[0].col) == (0, 0)
    assert d[0].delta == pytest.approx(1e-3, rel=1e-2) and d[0].explained > 0.99
    assert r.comparison.recovery.held_out_max_abs <= 1e-5


def test_no_false_alarm_on_1000_varied_texts(default_loaded):
    texts = vocabs.generate_texts(1000, default_loaded.facts.vocab_file, seed=123)
    assert len(set(map(str, texts))) == 1000
    r = api.verify(texts=texts, module=default_loaded)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.comparison.rebuild.worst_bound_ratio < 1.0
    assert r.pooled_output.shape == (1000, 384)


def test_perturbed_element_must_be_inside_the_kernel(tmp_path, small_weights):
    with pytest.raises(UsageError, match="outside"):
        build.build_module(small_weights, str(tmp_path / "m"), control=Control("perturbed", row=64))


def test_unknown_control_is_refused():
    with pytest.raises(UsageError, match="unknown control"):
        Control("swapped")


def test_an_identity_pooler_matches_and_is_called_out_in_every_format(tmp_path, small_weights, capsys):
    """As TF Hub's ELECTRA and BERT Experts ship it: W = I, b = 0, so pooled_output = tanh(cls)."""
    import dataclasses
    import json

    import numpy as np

    from tfhub_pooling import cli
    from tfhub_pooling.builder.bert_config import POOLER_BIAS, POOLER_KERNEL
    h = small_weights.config.hidden_size
    params = dict(small_weights.params, **{POOLER_KERNEL: np.eye(h, dtype=np.float32),
                                           POOLER_BIAS: np.zeros(h, np.float32)})
    path = build.build_module(dataclasses.replace(small_weights, params=params), str(tmp_path / "identity"))
    says = "the pooler is the identity (W = I, b = 0): pooled_output = tanh(cls)"
    for fmt in ([], ["--markdown"]):
        assert cli.main(["verify", "--handle", path, *fmt]) == 0
        assert says in capsys.readouterr().out
    assert cli.main(["verify", "--handle", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pooler_note"] == comparison.IDENTITY_POOLER


def test_the_default_modules_zero_bias_is_said(default_loaded):
    r = api.verify(module=default_loaded, texts=["Hello."])
    assert r.ok and r.comparison.pooler_note == comparison.ZERO_BIAS
    assert "the pooler bias is exactly zero (all 384 values)" in words.reason(r.comparison)
