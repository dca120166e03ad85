"""The residual-structure test: changes below the worst-case bound are caught on real
modules, clean modules are not flagged, and TF32 is off while the study runs."""

import json

import numpy as np
import pytest

from tfhub_pooling import api, cli, provision
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.numerics import bounds, comparison, structure
from tfhub_pooling.reports import schema, words


@pytest.fixture(scope="module")
def minilm_weights(default_module_path):
    return sources.from_hf_dir(provision.weights_dir())


@pytest.fixture(scope="module")
def moved_by_1e5(tmp_path_factory, minilm_weights):
    """MiniLM with W[0, 0] moved by 1e-5: 0.3 of the bound on the default texts."""
    return _perturbed(tmp_path_factory, minilm_weights, 1e-5, 0, 0)


def _perturbed(tmp_path_factory, w, amount, row, col):
    dest = tmp_path_factory.mktemp("perturbed") / "module"
    return build.build_module(w, str(dest), control=Control("perturbed", amount=amount, row=row, col=col))


@pytest.mark.parametrize("amount, row, col", [(1e-5, 0, 0), (-3e-6, 211, 57)])
def test_a_change_inside_the_bound_is_caught_and_named(tmp_path_factory, minilm_weights, amount, row, col):
    """Real MiniLM weights, one kernel element moved by far less than the bound allows."""
    r = api.verify(_perturbed(tmp_path_factory, minilm_weights, amount, row, col))
    c = r.comparison
    assert c.rebuild.elements_outside == 0 and c.rebuild.worst_bound_ratio < 1.0     # the bound alone passes it
    assert r.verdict == comparison.POOLER_WEIGHTS_DIFFER and r.exit_code == 12, words.reason(c)
    s = c.structure
    assert (s.row, s.col) == (row, col)
    assert s.delta == pytest.approx(amount, rel=0.05)
    assert s.false_alarm < structure.ALPHA
    assert [(f.holds, f.subject) for f in c.findings if f.check == "structure"] == [(True, f"W[{row}, {col}]")]


# W[0, 0] moved by these, largest first, 1.25 apart: the suspicious band of a first look
# (false-alarm probability between ALPHA and FOLLOW_UP_BELOW) is about 1.5 wide in the
# amount, and where it lies depends on the CPU's float32 rounding (8e-8 fell in it on an
# AVX-512 machine, 6e-8 on an AVX2 one).
LADDER = (1e-7, 8e-8, 6.4e-8, 5.1e-8, 4.1e-8)


def test_a_suspicious_first_look_is_settled_by_a_second_on_more_texts(tmp_path_factory, minilm_weights,
                                                                      monkeypatch):
    """A change too weak to decide on 64 texts is decided on 1,024, the false-alarm
    probability doubled for the second look. The ladder finds the amount whose first
    look, taken alone, is suspicious on this machine."""
    for amount in LADDER:
        module = _perturbed(tmp_path_factory, minilm_weights, amount, 0, 0)
        with monkeypatch.context() as m:
            m.setattr(structure, "FOLLOW_UP_BELOW", 0.0)    # the first look alone
            first = api.verify(module, recover_weights=False).comparison.structure
        if structure.ALPHA <= first.false_alarm < structure.FOLLOW_UP_BELOW:
            break
    else:
        pytest.fail(f"no amount of {LADDER} left a suspicious first look")
    assert (first.looks, first.texts) == (1, structure.TEXTS)
    r = api.verify(module, recover_weights=False)
    s = r.comparison.structure
    assert r.verdict == comparison.POOLER_WEIGHTS_DIFFER, words.reason(r.comparison)
    assert (s.row, s.col, s.looks, s.texts) == (0, 0, 2, structure.FOLLOW_UP_TEXTS)
    assert s.false_alarm < structure.ALPHA and s.delta == pytest.approx(amount, rel=0.2)


def test_the_default_module_is_clean_with_margin(default_loaded):
    r = api.verify(module=default_loaded)
    s = r.comparison.structure
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert s.texts == structure.TEXTS and s.looks == 1 and s.tested > 0.99 * 384 * 384
    assert s.false_alarm > 1e3 * structure.ALPHA


def test_no_false_alarm_on_a_thousand_clean_texts_of_a_random_bert(small_module_path):
    """Random weights: cls barely varies between texts, where rounding is most regular."""
    from tfhub_pooling.conventions import vocabs

    module = api.load(small_module_path)
    texts = vocabs.generate_texts(1000, module.facts.vocab_file, seed=5)
    r = api.verify(texts=texts, module=module)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.comparison.structure.texts == 1000
    assert r.comparison.structure.false_alarm > 1e3 * structure.ALPHA


def test_it_can_be_turned_off_and_then_the_bound_decides(moved_by_1e5):
    r = api.verify(moved_by_1e5, structure_test=False)
    assert r.comparison.structure is None and r.verdict == comparison.MATCHES_POOLER


def test_its_figures_are_in_the_json_report(capsys, default_module_path):
    assert cli.main(["verify", "--handle", default_module_path, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    schema.validator("verify").validate(doc)
    assert doc["structure"]["texts"] == structure.TEXTS and doc["structure"]["differs"] is False
    assert doc["tolerance"]["full_float32"] is True


def test_the_statistic_finds_a_planted_residual_and_ignores_one_that_follows_z():
    """Pure numbers: a residual shaped like a changed W[2, 5] is found; one that is a smooth
    function of z_j alone (what a float32 tanh's own error looks like) is not."""
    rng = np.random.default_rng(0)
    n, h = 200, 16
    cls = rng.standard_normal((n, h)).astype(np.float32)
    kernel = (0.2 * rng.standard_normal((h, h))).astype(np.float32)
    bias = (0.1 * rng.standard_normal(h)).astype(np.float32)
    z = cls.astype(np.float64) @ kernel + bias
    clean = np.tanh(z)
    bound = bounds.pooler_error_bound(cls, kernel, bias)
    noise = 1e-3 * bound * rng.standard_normal((n, h))
    smooth = np.zeros((n, h))
    smooth[:, 5] = 50 * noise.std() * np.sin(z[:, 5])                 # z_j's own shape, no cls_i
    planted = np.zeros((n, h))
    planted[:, 5] = (1 - clean[:, 5] ** 2) * cls[:, 2] * 1e-7

    found = structure.residual_structure(clean + noise + planted, cls, kernel, bias)
    assert (found.row, found.col) == (2, 5) and found.differs
    assert found.delta == pytest.approx(1e-7, rel=0.1)
    assert not structure.residual_structure(clean + noise, cls, kernel, bias).differs
    assert not structure.residual_structure(clean + noise + smooth, cls, kernel, bias).differs


def test_batches_add_up_to_the_whole():
    rng = np.random.default_rng(1)
    cls = rng.standard_normal((90, 8))
    kernel, bias = 0.3 * rng.standard_normal((8, 8)), 0.1 * rng.standard_normal(8)
    pooled = np.tanh(cls @ kernel + bias) + 1e-9 * rng.standard_normal((90, 8))
    sums = structure.ResidualSums(kernel, bias)
    for rows in (slice(0, 30), slice(30, 31), slice(31, 90)):
        sums.add(pooled[rows], cls[rows])
    batched, whole = sums.result(), structure.residual_structure(pooled, cls, kernel, bias)
    assert (batched.row, batched.col, batched.texts) == (whole.row, whole.col, 90)
    # float64 sums in another order; partialling out the nuisances cancels to about 1e-8
    assert batched.t == pytest.approx(whole.t, rel=1e-6)


def test_tf32_is_off_while_the_study_runs(default_loaded):
    """No GPU here: what can be tested is that the switch is made, in the study's process."""
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(True)
    try:
        r = api.verify(module=default_loaded, texts=["Hello."])
        assert r.full_float32
        assert not tf.config.experimental.tensor_float_32_execution_enabled()
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(True)


def test_the_cli_skips_it_when_asked(capsys, moved_by_1e5):
    path = moved_by_1e5
    assert cli.main(["verify", "--handle", path, "--json"]) == 12
    assert json.loads(capsys.readouterr().out)["structure"]["differs"] is True
    assert cli.main(["verify", "--handle", path, "--json", "--no-structure"]) == 0
    assert json.loads(capsys.readouterr().out)["structure"] is None


def test_corpus_mode_runs_it_over_the_whole_file(capsys, tmp_path, moved_by_1e5):
    """Every batch is within the bound; the test over all the file's texts is not fooled."""
    from tfhub_pooling.conventions import vocabs

    texts_file = tmp_path / "texts.txt"
    vocab = api.load(moved_by_1e5).facts.vocab_file
    texts = vocabs.generate_texts(100, vocab, seed=3)     # some are pairs: a tab splits them
    texts_file.write_text("".join((t if isinstance(t, str) else "\t".join(t)) + "\n" for t in texts))
    assert cli.main(["verify", "--handle", moved_by_1e5, "--texts-file", str(texts_file), "--json"]) == 12
    doc = json.loads(capsys.readouterr().out)
    schema.validator("corpus").validate(doc)
    assert doc["batch_verdicts"] == {comparison.MATCHES_POOLER: doc["batch_verdicts"][comparison.MATCHES_POOLER]}
    s = doc["structure"]
    assert (s["row"], s["col"], s["texts"], s["differs"]) == (0, 0, 100, True)
    assert doc["verdict"] == comparison.POOLER_WEIGHTS_DIFFER and "W[0, 0]" in doc["reason"]
    assert cli.main(["verify", "--handle", moved_by_1e5, "--texts-file", str(texts_file),
                     "--no-structure", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["structure"] is None
