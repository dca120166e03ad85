"""The study on Hugging Face TF SavedModels, the files people serve BERT with in TF
Serving, written by transformers 4.47.1 itself from the real MiniLM weights.

transformers' TFBertPooler is tanh(dense(hidden_states[:, 0])), with the dense layer
stored as `bert/pooler/dense/{kernel,bias}`: the base model must match its pooler; a
model with a task head returns only logits, so there is no pooled_output to check.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfhub_pooling import api, cli
from tfhub_pooling.errors import NoPooledOutputError
from tfhub_pooling.formats import HF_TF
from tfhub_pooling.numerics.comparison import MATCHES_POOLER
from tfhub_pooling.reports import words
from tfhub_pooling.study import loading

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Crème brûlée, naïve café: résumé!", ("A pair's first segment.", "Its second.")]


def test_the_save_pretrained_directory_verifies_with_the_vocab_beside_it(hf_tf_export):
    r = api.verify(str(hf_tf_export / "save_pretrained"), texts=TEXTS)
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.comparison.pooled_vs_cls.max_abs > 0.1
    assert r.module.format == HF_TF and r.module.num_layers == 6
    assert r.module.vocab_source == loading.VocabSource("beside-saved-model", casing_from="tokenizer-config")
    assert r.module.do_lower_case
    assert r.pooler.kernel_name.endswith("bert/pooler/dense/kernel")


def test_its_outputs_equal_the_same_weights_built_by_our_writer(hf_tf_export):
    """transformers' own TF code and the builder's TF1 module compute the same BERT."""
    theirs = api.verify(str(hf_tf_export / "save_pretrained"), texts=TEXTS)
    ours = api.verify(None, texts=TEXTS)
    assert np.array_equal(theirs.inputs.input_ids, ours.inputs.input_ids)
    assert np.abs(theirs.pooled_output - ours.pooled_output).max() < 1e-4


@pytest.mark.parametrize("saved", ["save_pretrained/saved_model/1", "saved_model"])
def test_a_saved_model_named_by_itself_needs_its_vocab(saved, hf_tf_export, capsys):
    handle = str(hf_tf_export / saved)
    assert cli.main(["verify", "--handle", handle]) == 5
    assert "--vocab" in capsys.readouterr().err
    vocab = hf_tf_export / "save_pretrained" / "vocab.txt"
    r = api.verify(handle, texts=TEXTS, vocab=str(vocab))
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.do_lower_case          # from the tokenizer_config.json beside the vocab
    assert r.module.vocab_source == loading.VocabSource("named-file", casing_from="tokenizer-config")
    cased = api.verify(handle, texts=TEXTS, vocab=str(vocab), lower_case=False)
    assert not cased.module.do_lower_case and cased.module.vocab_source.casing_from == "option"


def test_a_model_with_a_task_head_has_no_pooled_output(hf_tf_export, capsys):
    with pytest.raises(NoPooledOutputError, match="logits"):
        api.verify(str(hf_tf_export / "classifier"), texts=TEXTS)
    assert cli.main(["verify", "--handle", str(hf_tf_export / "classifier")]) == 16


def test_inspect_reads_the_save_pretrained_directory(hf_tf_export, capsys):
    assert cli.main(["inspect", str(hf_tf_export / "save_pretrained"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["module"]["format"] == HF_TF
    assert info["pooler"]["kernel"]["shape"] == [384, 384]
    assert info["module"]["num_layers"] == 6


def test_hugging_face_variables_behind_tf_hub_output_names_verify(hf_tf_export):
    """A TFBertModel served like a hub module (pooled_output, sequence_output): outputs found
    by TF Hub's names, the pooler by Hugging Face's; still one BERT."""
    r = api.verify(str(hf_tf_export / "hub_names"), texts=TEXTS,
                   vocab=str(hf_tf_export / "save_pretrained" / "vocab.txt"))
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert "-> pooled_output, sequence_output" in r.module.signature
    assert r.pooler.kernel_name.endswith("bert/pooler/dense/kernel")
