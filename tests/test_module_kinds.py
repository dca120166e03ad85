"""What the encoders beyond BERT and ALBERT need of the study, tested as pure functions:
which lengths a module takes, a shortened sequence's mask, layer counts by every
exporter's names, the directory save_pretrained writes, and a vocab the user names.
The modules themselves come from their upstream tools in the compat tier
(compat/test_model_garden_encoders.py, test_hf_tf.py, test_keras_nlp.py)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfhub_pooling import api, cli, provision
from tfhub_pooling.builder import build, sources
from tfhub_pooling.errors import InterfaceError, UsageError
from tfhub_pooling.formats import KERAS_HUB
from tfhub_pooling.numerics.comparison import MATCHES_POOLER
from tfhub_pooling.study import detect, forward, lengths, loading, stored_variables


def test_lengths_tried_run_from_the_texts_up_to_the_module_maximum():
    assert lengths.candidates(36, 128) == [36, 40, 48, 64, 128]
    assert lengths.candidates(20, 1024)[:6] == [20, 24, 32, 64, 128, 192]
    assert lengths.candidates(128, 128) == [128]


def _block_sparse(block: int, fewest: int):
    """What BigBird's graph does with a length: refuses all but whole blocks, and at least `fewest`."""
    tried = []

    def call(length: int) -> int:
        tried.append(length)
        if length % block or length < block * fewest:
            raise tf.errors.InvalidArgumentError(None, None, f"cannot reshape {length} into blocks of {block}")
        return length
    return call, tried


def test_a_batch_runs_at_the_shortest_length_the_module_takes_and_it_is_remembered():
    rule = lengths.Lengths(static=None, max_length=128)
    call, tried = _block_sparse(16, 7)
    assert rule.run(36, call) == (128, 128)
    assert tried == [36, 40, 48, 64, 128]
    tried.clear()
    assert rule.run(36, call) == (128, 128) and tried == [128]
    assert rule.picky


def test_a_module_that_takes_the_texts_length_runs_at_it():
    rule = lengths.Lengths(static=None, max_length=512)
    assert rule.run(9, lambda length: length) == (9, 9) and not rule.picky


def test_a_fixed_signature_always_runs_at_its_length():
    rule = lengths.Lengths(static=128, max_length=128)
    assert rule.run(9, lambda length: length) == (128, 128) and rule.picky


def test_a_module_that_takes_no_length_is_refused_in_one_line():
    rule = lengths.Lengths(static=None, max_length=64)
    call, _ = _block_sparse(16, 7)           # needs 112, has 64
    with pytest.raises(InterfaceError, match="takes no sequence length from 20 to 64 tokens"):
        rule.run(20, call)


def test_a_shortened_sequence_is_masked_by_the_tokens_each_row_pools():
    mask = np.array([[1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(forward.pooled_mask(mask, 3), [[1, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(forward.pooled_mask(mask[:, :7], 2), [[1, 1], [1, 0]])


# Variable names as each exporter wrote them (read off its real exports), two layers each.
LAYER_NAMES = {
    "model garden bert": ["bert_encoder/transformer/layer_0/output/kernel", "bert_encoder/transformer/layer_1/output/kernel",
                          "bert_encoder/transformer/pooler_transform/kernel"],
    "mobilebert": ["transformer_layer_0/attention/key/kernel", "transformer_layer_1/attention/key/kernel",
                   "mobile_bert_embedding/word_embedding/embeddings"],
    "teams (first layer unnumbered)": ["transformer/intermediate/kernel", "transformer_1/intermediate/kernel",
                                       "cls_transform/kernel"],
    "bigbird": ["transformer_scaffold_2/big_bird_attention/key/kernel",
                "transformer_scaffold_3/big_bird_attention/key/kernel"],
    "reuse": ["reuse_transformer/output/kernel", "reuse_transformer_1/output/kernel"],
    "roformer": ["roformer/layer_0/output/kernel", "roformer/layer_1/output/kernel", "pooler_transform/kernel"],
    "hugging face": ["tf_bert_model/bert/encoder/layer_._0/output/dense/kernel",
                     "tf_bert_model/bert/encoder/layer_._1/output/dense/kernel", "tf_bert_model/bert/pooler/dense/kernel"],
}


@pytest.mark.parametrize("exporter", sorted(LAYER_NAMES))
def test_layers_are_counted_under_every_exporters_names(exporter):
    entries = [stored_variables.Entry(n, (4, 4), "float32", lambda: None) for n in LAYER_NAMES[exporter]]
    assert stored_variables.num_layers(entries) == 2
    # MobileBERT's encoder_outputs hold the embeddings first.
    assert stored_variables.encoder_outputs(entries) == (3 if exporter == "mobilebert" else 2)


def _saved_model(directory):
    directory.mkdir(parents=True)
    (directory / "saved_model.pb").write_bytes(b"")
    return directory


def test_the_directory_save_pretrained_writes_is_told_and_its_newest_version_loaded(tmp_path):
    root = tmp_path / "save_pretrained"
    for version in ("1", "2", "10"):
        _saved_model(root / "saved_model" / version)
    (root / "config.json").write_text("{}")
    found = detect.detect(str(root))
    assert found.kind == detect.HF_SAVE_PRETRAINED and found.saved_model == str(root / "saved_model" / "10")
    assert detect.detect(str(_saved_model(tmp_path / "plain"))).kind == detect.SAVED_MODEL


@pytest.fixture
def vocab_dir(tmp_path):
    """The embedded weights' vocab.txt and tokenizer_config.json, as save_pretrained leaves them."""
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(provision.weights_dir() / name, tmp_path / name)
    return tmp_path


def test_a_named_vocab_takes_its_casing_from_the_tokenizer_config_beside_it(vocab_dir):
    r = api.verify(None, texts=["Hello!"], vocab=str(vocab_dir / "vocab.txt"), structure_test=False)
    assert r.verdict == MATCHES_POOLER and r.module.do_lower_case
    assert r.module.vocab_file == str(vocab_dir / "vocab.txt")
    assert r.module.vocab_source == loading.VocabSource("named-file", casing_from="tokenizer-config")
    assert "the --vocab file vocab.txt" in r.tokenizer


def test_an_explicit_casing_wins_and_no_casing_at_all_is_refused(vocab_dir):
    cased = api.verify(None, texts=["Hello!"], vocab=str(vocab_dir / "vocab.txt"), lower_case=False,
                       structure_test=False)
    assert not cased.module.do_lower_case and cased.module.vocab_source.casing_from == "option"
    (vocab_dir / "tokenizer_config.json").unlink()
    with pytest.raises(InterfaceError, match="--lower-case or --no-lower-case"):
        api.verify(None, texts=["Hello!"], vocab=str(vocab_dir / "vocab.txt"))


def test_a_vocab_that_is_no_file_and_a_vocab_beside_a_preprocessing_model_are_usage_errors(vocab_dir, capsys):
    with pytest.raises(UsageError, match="is not a file"):
        api.verify(None, vocab=str(vocab_dir / "missing.txt"))
    assert cli.main(["verify", "--vocab", str(vocab_dir / "vocab.txt"), "--preprocess", str(vocab_dir)]) == 2
    assert "--preprocess makes the inputs" in capsys.readouterr().err


def test_the_vocab_beside_a_hugging_face_saved_model_says_where_a_link_leads(tmp_path, vocab_dir):
    root = tmp_path / "save_pretrained"
    root.mkdir()
    (root / "vocab.txt").symlink_to(vocab_dir / "vocab.txt")          # a cache's link, leading out
    shutil.copy(vocab_dir / "tokenizer_config.json", root)
    vocab_file, source, lower = loading.hf_vocab(str(root))
    assert vocab_file == str(root / "vocab.txt") and lower
    assert source == loading.VocabSource("beside-saved-model", link_to=str(vocab_dir / "vocab.txt"),
                                         casing_from="tokenizer-config")
    (root / "vocab.txt").unlink()
    with pytest.raises(InterfaceError, match="no vocab.txt beside it"):
        loading.hf_vocab(str(root))


def test_a_preset_keeps_its_own_tokenizer(tmp_path, small_hf_dir, vocab_dir):
    preset = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "preset"), KERAS_HUB)
    with pytest.raises(UsageError, match="tokenizes with its own tokenizer"):
        api.verify(preset, vocab=str(vocab_dir / "vocab.txt"))
