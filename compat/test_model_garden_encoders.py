"""The study on every encoder type Model Garden's TF Hub exporter exports beside BERT
and ALBERT (its EncoderConfig types and the `any` builders TEAMS and RoFormer), each
module written by export_tfhub_lib.export_model itself.

What each should get follows from Model Garden's source: every one of them computes
pooled_output as a dense layer with tanh on sequence_output[:, 0], except MobileBERT
with classifier_activation=False, which returns that row itself.
"""

from __future__ import annotations

import json

import pytest

from tfhub_pooling import api, cli
from tfhub_pooling.numerics.comparison import EQUALS_CLS, MATCHES_POOLER
from tfhub_pooling.reports import words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Hello!", ("A pair's first segment.", "Its second."), "word " * 40]

# kind -> (verdict, pooler naming, layers, encoder_outputs entries)
EXPECTED = {
    "mobilebert": (MATCHES_POOLER, "model-garden-mobilebert", 2, 3),   # embeddings first, then each layer
    "mobilebert_no_activation": (EQUALS_CLS, None, 2, 3),
    "funnel": (MATCHES_POOLER, "model-garden", 2, 2),
    "fnet": (MATCHES_POOLER, "model-garden", 2, 2),
    "sparse_mixer": (MATCHES_POOLER, "model-garden", 4, 4),
    "bigbird": (MATCHES_POOLER, "model-garden-scaffold", 2, 2),
    "kernel": (MATCHES_POOLER, "model-garden-scaffold", 2, 2),
    "reuse": (MATCHES_POOLER, "model-garden-scaffold", 2, 2),
    "query_bert": (MATCHES_POOLER, "model-garden", 2, 2),
    "teams": (MATCHES_POOLER, "model-garden-scaffold", 2, 2),
    "roformer": (MATCHES_POOLER, "model-garden", 2, 2),
    "bert_mixed_float16": (MATCHES_POOLER, "model-garden", 2, 2),
    "bert_mixed_bfloat16": (MATCHES_POOLER, "model-garden", 2, 2),
    "talking_heads": (MATCHES_POOLER, "model-garden-scaffold", 2, 2),
    "copy_pooler": (MATCHES_POOLER, "model-garden", 2, 2),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_model_garden_encoder_gets_the_verdict_its_source_implies(kind, model_garden_encoders):
    verdict, scheme, layers, outputs = EXPECTED[kind]
    r = api.verify(model_garden_encoders[kind], texts=TEXTS)
    assert r.verdict == verdict, words.reason(r.comparison)
    assert (r.pooler.scheme if r.pooler else None) == scheme
    assert r.module.num_layers == layers
    assert r.interface_checks["encoder_outputs"] == outputs
    assert r.interface_checks["problems"] == []          # the count check ran, and passed


def test_fixed_length_signatures_are_padded_to_their_length(model_garden_encoders):
    for kind in ("fnet", "sparse_mixer"):
        r = api.verify(model_garden_encoders[kind], texts=TEXTS)
        assert r.module.static_length == 128
        assert r.padded_to == 128 and r.sequence_output.shape[1] == r.inputs.input_ids.shape[1]


def test_bigbird_runs_at_a_length_it_takes(model_garden_encoders):
    r = api.verify(model_garden_encoders["bigbird"], texts=TEXTS)
    assert r.module.static_length is None
    # block_size 16, 2 random blocks: whole blocks and at least seven of them.
    assert r.padded_to % 16 == 0 and r.padded_to >= 112


def test_funnel_shortens_its_sequence_and_cls_is_row_0(model_garden_encoders):
    r = api.verify(model_garden_encoders["funnel"], texts=TEXTS)
    width = r.inputs.input_ids.shape[1]
    assert r.shortened_to == -(-width // 4)                   # two layers, pool stride 2 each
    assert r.comparison.pooled_vs_cls.max_abs > 0.1


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_inspect_counts_the_layers_of_each(kind, model_garden_encoders, capsys):
    assert cli.main(["inspect", model_garden_encoders[kind], "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["module"]["num_layers"] == EXPECTED[kind][2]


@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
def test_mixed_precision_is_judged_in_its_own_precision(precision, model_garden_encoders, capsys):
    r = api.verify(model_garden_encoders[f"bert_mixed_{precision}"], texts=TEXTS)
    assert r.pooled_output.dtype.name == precision
    assert r.comparison.precision == precision
    assert cli.main(["verify", "--handle", model_garden_encoders[f"bert_mixed_{precision}"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tolerance"]["precision"] == precision


def test_talking_heads_is_what_its_gin_bindings_build(model_garden_encoders):
    """An EncoderScaffold of TalkingHeadsAttention layers, its pooler under cls_transform."""
    info = api.inspect(model_garden_encoders["talking_heads"])
    names = [v["name"] for v in info["variables"]["shown"]]
    assert any(n.endswith("self_attention/pre_softmax_weight") for n in names)
    assert info["pooler"]["kernel"]["name"] == "cls_transform/kernel"


def test_copy_pooler_dense_to_encoder_stores_the_heads_pooler(model_garden_encoders):
    """export_model copies the next-sentence head's dense layer over the encoder's pooler: the
    study finds, and matches, the head's kernel, not the encoder's own."""
    import os

    import numpy as np

    path = model_garden_encoders["copy_pooler"]
    head = np.load(os.path.join(os.path.dirname(path), "copy_pooler_head_kernel.npy"))
    r = api.verify(path, texts=TEXTS)
    assert r.verdict == MATCHES_POOLER
    assert np.array_equal(r.pooler.kernel, head)
