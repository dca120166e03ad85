"""compare on pairs the upstream tools wrote: the real MiniLM weights as Google's TF1 export
(google-research modeling.py, whose "gelu" is the tanh form), Model Garden's export of the
same checkpoint, and the Hugging Face checkpoint they came from (config.json: "gelu", the
exact form), each run in its own runtime."""

from __future__ import annotations

from tfhub_pooling import api, provision

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Hello!", ("A pair's first segment.", "Its second.")]


def test_googles_tf1_export_and_model_gardens_export_of_one_checkpoint_agree(minilm_export):
    p = api.compare(minilm_export.tf1_hub, minilm_export.model_garden, texts=TEXTS)
    assert p.verdict == "AGREE", [(s.stage, s.status, s.max_abs, s.bound) for s in p.stages]


def test_googles_tf1_export_and_its_hugging_face_source_part_at_the_encoder_by_the_gelu_form(minilm_export):
    p = api.compare(minilm_export.tf1_hub, str(provision.weights_dir()), texts=TEXTS)
    assert p.verdict == "PART_AT_ENCODER"
    explained = p.stage("encoder").findings["explained_by"]
    assert (explained["cause"], explained["side"], explained["runs"], explained["other"]) == \
        ("gelu-form", "b", "gelu", "gelu_new")
    assert p.stage("pooler-weights").status == "agrees"
