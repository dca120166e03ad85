"""ALBERT: factorized embeddings, one shared layer, a SentencePiece vocab; in TF1 Hub
form (as google/albert_base/3) and TF2 form (as tensorflow/albert_en_base/3), alone
and with its preprocessing model, with every negative control."""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfhub_pooling import api, provision
from tfhub_pooling.builder import bert_config, build
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import InterfaceError, UsageError
from tfhub_pooling.formats import CHECKPOINT, PREPROCESS, TF1_HUB, TF2_DICT, TF2_LIST
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import words
from tfhub_pooling.study import loading, saved_model_proto
from tfhub_pooling.study.encoder_inputs import Tokenizer

SMALL_ALBERT = {"hidden_size": 64, "embedding_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
                "intermediate_size": 128, "max_position_embeddings": 128}


@pytest.fixture(scope="module")
def albert_weights(private_caches):
    return provision.albert_weights(seed=5, **SMALL_ALBERT)


@pytest.fixture(scope="module")
def albert_modules(tmp_path_factory, albert_weights):
    root = tmp_path_factory.mktemp("albert")
    return {fmt: build.build_module(albert_weights, str(root / fmt), fmt)
            for fmt in (TF1_HUB, TF2_DICT, TF2_LIST, PREPROCESS, CHECKPOINT)}


def numpy_albert(p: dict, config: bert_config.BertConfig, ids, mask, types):
    """ALBERT from its paper and google-research's variable names, in float64, written apart
    from builder/bert.py: E-wide embeddings, a projection to H, one layer applied L times."""
    w = {k: v.astype(np.float64) for k, v in p.items()}
    b, s = ids.shape
    heads, h = config.num_attention_heads, config.hidden_size
    d = h // heads

    def norm(x, scope):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[scope + "/gamma"] + w[scope + "/beta"]

    def affine(x, scope):
        return x @ w[scope + "/kernel"] + w[scope + "/bias"]

    x = (w["bert/embeddings/word_embeddings"][ids] + w["bert/embeddings/token_type_embeddings"][types]
         + w["bert/embeddings/position_embeddings"][:s][None])
    x = affine(norm(x, "bert/embeddings/LayerNorm"), "bert/encoder/embedding_hidden_mapping_in")
    shared = "bert/encoder/transformer/group_0/inner_group_0"
    bias = (1.0 - mask[:, None, None, :]) * -10000.0
    for _ in range(config.num_hidden_layers):
        q, k, v = (affine(x, f"{shared}/attention_1/self/{m}").reshape(b, s, heads, d).transpose(0, 2, 1, 3)
                   for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        context = ((probs / probs.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
        x = norm(affine(context, f"{shared}/attention_1/output/dense") + x, f"{shared}/LayerNorm")
        inner = affine(x, f"{shared}/ffn_1/intermediate/dense")
        inner = 0.5 * inner * (1 + np.tanh(math.sqrt(2 / math.pi) * (inner + 0.044715 * inner ** 3)))
        x = norm(affine(inner, f"{shared}/ffn_1/intermediate/output/dense") + x, f"{shared}/LayerNorm_1")
    return x, np.tanh(affine(x[:, 0], "bert/pooler/dense"))


@pytest.mark.parametrize("fmt", [TF1_HUB, TF2_DICT, TF2_LIST])
def test_built_albert_equals_a_numpy_albert(fmt, albert_modules, albert_weights):
    module = api.load(albert_modules[fmt])
    inputs = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case).encode(
        ["An ALBERT shares one layer's weights.", ("Twelve times over", "and projects E to H.")], 128)
    out = module.run(inputs.input_ids, inputs.input_mask, inputs.segment_ids)
    sequence, pooled = numpy_albert(albert_weights.params, albert_weights.config, inputs.input_ids,
                                    inputs.input_mask, inputs.segment_ids)
    real = inputs.input_mask.astype(bool)
    assert np.abs(out["sequence_output"][real] - sequence[real]).max() < 1e-4
    assert np.abs(out["pooled_output"] - pooled).max() < 1e-4


@pytest.mark.parametrize("fmt, scheme, kernel", [
    (TF1_HUB, "google-research", "bert/pooler/dense/kernel"),
    (TF2_DICT, "model-garden", "pooler_transform/kernel"),
    (TF2_LIST, "model-garden", "pooler_transform/kernel"),
    (CHECKPOINT, "google-research", "bert/pooler/dense/kernel"),
])
def test_albert_verifies_in_every_format(fmt, scheme, kernel, albert_modules):
    r = api.verify(albert_modules[fmt])
    assert r.verdict == comparison.MATCHES_POOLER and r.exit_code == 0, words.reason(r.comparison)
    assert (r.pooler.scheme, r.pooler.kernel_name) == (scheme, kernel)
    assert r.tokenizer.startswith("tensorflow_text SentencepieceTokenizer")
    assert "(lower case, accents removed)" in r.tokenizer
    assert r.comparison.pooled_vs_cls.max_abs > 0.1


def test_tf1_albert_vocab_is_the_signatures_tensor_not_the_constant_named_vocab_file(albert_modules):
    """As google/albert_base/3: tokenization_info's vocab_file is the graph tensor
    `vocab_model:0` (the .model asset); a constant named `vocab_file` holds the .vocab listing."""
    path = albert_modules[TF1_HUB]
    graph = saved_model_proto.meta_graph(saved_model_proto.read(path))
    records = saved_model_proto.asset_records(graph)
    assert saved_model_proto.signature_output_tensor(graph, "tokenization_info", "vocab_file") == "vocab_model:0"
    assert records["vocab_model:0"].endswith(".model") and records["vocab_file:0"].endswith(".vocab")
    module = api.load(path)
    assert module.facts.vocab_file.endswith(".model") and module.facts.vocab_source == loading.VOCAB_IN_MODULE


def test_tf2_albert_carries_sp_model_file_only(albert_modules):
    obj = tf.saved_model.load(albert_modules[TF2_DICT])
    assert hasattr(obj, "sp_model_file") and not hasattr(obj, "vocab_file") and not hasattr(obj, "do_lower_case")
    module = api.load(albert_modules[TF2_DICT])
    assert module.facts.do_lower_case and module.facts.vocab_file.endswith(".model")
    assert module.facts.num_layers is None    # one shared set of layer weights: the names count no layers


def test_albert_with_its_preprocessing_model_gives_our_ids_and_verdict(albert_modules):
    texts = ["Crème brûlée at the Café.", ("A pair of texts,", "the second of two segments.")]
    ours = api.verify(albert_modules[TF2_DICT], texts=texts, max_seq_length=128)
    theirs = api.verify(albert_modules[TF2_DICT], texts=texts, preprocess=albert_modules[PREPROCESS])
    assert theirs.verdict == ours.verdict == comparison.MATCHES_POOLER
    width = ours.inputs.input_ids.shape[1]
    assert (theirs.inputs.input_ids[:, :width] == ours.inputs.input_ids).all()
    assert (theirs.inputs.input_ids[:, width:] == 0).all()        # <pad> is 0 in ALBERT's layout


def test_an_albert_encoder_with_no_vocab_verifies_with_a_preprocessing_model(tmp_path, albert_modules):
    """The advice of the no-vocab error works: re-saved without sp_model_file, the encoder
    needs --preprocess, and with it verifies."""
    obj = tf.saved_model.load(albert_modules[TF2_DICT])
    bare = tf.train.Checkpoint()
    bare.__call__, bare.variables = obj.__call__, list(obj.variables)
    tf.saved_model.save(bare, str(tmp_path / "bare"))
    with pytest.raises(InterfaceError, match="its preprocessing model with --preprocess"):
        api.verify(str(tmp_path / "bare"))
    r = api.verify(str(tmp_path / "bare"), preprocess=albert_modules[PREPROCESS])
    assert r.verdict == comparison.MATCHES_POOLER


def test_sentencepiece_packs_with_albert_ids_and_strips_accents(albert_weights):
    vocab = vocabs.read(albert_weights.vocab_file)
    assert (vocab.kind, vocab.pad_id, vocab.cls_id, vocab.sep_id) == (vocabs.SENTENCEPIECE, 0, 2, 3)
    tok = Tokenizer(albert_weights.vocab_file, True)
    inputs = tok.encode(["Café", "cafe", ("one", "two words")], 16)
    assert (inputs.input_ids[0] == inputs.input_ids[1]).all()
    first = inputs.input_ids[2][inputs.input_mask[2] == 1]
    assert first[0] == 2 and (first == 3).sum() == 2 and first[-1] == 3
    assert inputs.segment_ids[2][inputs.input_mask[2] == 1][-1] == 1
    assert (inputs.input_ids[0][inputs.input_mask[0] == 0] == vocab.pad_id).all()


@pytest.mark.parametrize("control, verdict", [
    (Control("identity"), comparison.EQUALS_CLS),
    (Control("mean"), comparison.MEAN_POOLED),
    (Control("activation", activation="relu"), comparison.UNEXPLAINED),
    (Control("activation", activation="none"), comparison.UNEXPLAINED),
    (Control("hidden-weights"), comparison.NO_POOLER_WEIGHTS),
    (Control("perturbed", amount=0.05, row=1, col=2), comparison.POOLER_WEIGHTS_DIFFER),
])
@pytest.mark.parametrize("fmt", [TF1_HUB, TF2_DICT])
def test_every_control_written_as_albert_gets_its_verdict(fmt, control, verdict, tmp_path, albert_weights):
    path = build.build_module(albert_weights, str(tmp_path / "control"), fmt, control=control)
    r = api.verify(path)
    assert r.verdict == verdict, words.reason(r.comparison)


def test_albert_checkpoint_directory_has_albert_base_files(albert_modules):
    files = sorted(os.listdir(albert_modules[CHECKPOINT]))
    assert {"albert_config.json", "30k-clean.model", "30k-clean.vocab", "model.ckpt-best.index"} <= set(files)


def test_a_file_that_is_no_vocab_is_one_clear_error(tmp_path, albert_weights):
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"\x0a\x05hello, not a model")
    with pytest.raises(UsageError, match="neither a WordPiece vocab .* nor a SentencePiece model"):
        vocabs.read(str(junk))


def test_a_sentencepiece_model_without_albert_pieces_is_refused(tmp_path, minilm_dir):
    import sentencepiece as spm
    lines = [" ".join(f"word{i} thing{j}" for j in range(i % 7 + 1)) for i in range(300)]
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_prefix=str(tmp_path / "plain"),
                                   vocab_size=30, minloglevel=2)
    with pytest.raises(UsageError, match=r"has no \[CLS\], \[SEP\], <pad> piece; it is no ALBERT vocab"):
        vocabs.read(str(tmp_path / "plain.model"))


def test_albert_config_limits():
    with pytest.raises(UsageError, match="only 1 and 1"):
        bert_config.BertConfig.from_json_dict({"num_hidden_groups": 2, "embedding_size": 16},
                                              bert_config.GOOGLE_RESEARCH_CONFIG, bert_config.ALBERT)
    with pytest.raises(UsageError, match="ALBERT's factorized embedding, not BERT's"):
        bert_config.BertConfig(hidden_size=64, num_attention_heads=2, embedding_size=16)


def test_an_albert_checkpoint_handle_is_built_and_verified(tmp_path, albert_modules):
    shutil.copytree(albert_modules[CHECKPOINT], tmp_path / "albert_base")
    r = api.verify(str(tmp_path / "albert_base"))
    assert r.verdict == comparison.MATCHES_POOLER and "30k-clean.model" in r.tokenizer
