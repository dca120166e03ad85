"""Exports Model Garden's other encoder types as its TF Hub exporter exports them.

Runs in the `model-garden` side environment (tf-models-official 2.20.0). Each
encoder is built by Model Garden's own `encoders.build_encoder` from a small
`EncoderConfig`, given seeded random weights with non-zero biases (a fresh
Dense has a zero bias, which would hide a missing `+ b`), saved as the
checkpoint `export_tfhub_lib.export_model` restores, and exported by it with
the vocab as `vocab_file`: the path Model Garden's own TF Hub encoders took.

Two kinds go through the exporter's other doors: `talking_heads` is the BERT config
built under the gin bindings TF Hub's Talking-Heads encoders were exported with
(export_tfhub.py --gin_params: an EncoderScaffold of TransformerScaffolds with
TalkingHeadsAttention and GatedFeedforward), and `copy_pooler` is exported with
copy_pooler_dense_to_encoder=True from a checkpoint whose next-sentence head holds a
pooler dense layer of its own, which the exporter copies over the encoder's.

    python export_model_garden_encoders.py VOCAB_FILE OUT_DIR
    -> OUT_DIR/<kind> for each kind configs() names (or --kinds); the last stdout line is JSON
"""

import argparse
import json
import os
import tempfile

import gin
import numpy as np
import tensorflow as tf
import tf_keras
from official.nlp.configs import encoders
from official.nlp.tools import export_tfhub_lib
from official.projects.roformer import roformer
from official.projects.teams import teams

H, LAYERS, HEADS, INNER, MAX_LEN = 64, 2, 2, 128, 128


def configs(vocab_size: int) -> dict:
    common = dict(vocab_size=vocab_size, hidden_size=H, num_layers=LAYERS, num_attention_heads=HEADS)
    bert_like = common | dict(intermediate_size=INNER, max_position_embeddings=MAX_LEN)
    mobile = dict(word_vocab_size=vocab_size, word_embed_size=32, num_blocks=LAYERS, hidden_size=H,
                  num_attention_heads=HEADS, intermediate_size=INNER, intra_bottleneck_size=32,
                  max_sequence_length=MAX_LEN)
    return {
        "mobilebert": ("mobilebert", encoders.MobileBertEncoderConfig(**mobile)),
        "mobilebert_no_activation": ("mobilebert", encoders.MobileBertEncoderConfig(
            **mobile, classifier_activation=False)),
        "funnel": ("funnel", encoders.FunnelEncoderConfig(**common, inner_dim=INNER,
                                                          max_position_embeddings=MAX_LEN)),
        "fnet": ("fnet", encoders.FNetEncoderConfig(**common, inner_dim=INNER, max_sequence_length=MAX_LEN)),
        "sparse_mixer": ("sparse_mixer", encoders.SparseMixerEncoderConfig(
            vocab_size=vocab_size, hidden_size=H, num_layers=4, moe_layers=(1,), attention_layers=(3,),
            num_experts=2, num_attention_heads=HEADS, inner_dim=INNER, max_sequence_length=MAX_LEN)),
        "bigbird": ("bigbird", encoders.BigBirdEncoderConfig(
            **bert_like, block_size=16, num_rand_blocks=2)),
        "kernel": ("kernel", encoders.KernelEncoderConfig(**bert_like)),
        "reuse": ("reuse", encoders.ReuseEncoderConfig(**bert_like, max_reuse_layer_idx=1)),
        # QueryBert's embedding layer needs its width said; None, the default, fails to build.
        "query_bert": ("query_bert", encoders.QueryBertConfig(**bert_like, embedding_size=H)),
        # The `any` builders: the config class names its BUILDER (TEAMS is an EncoderScaffold).
        "teams": ("any", teams.TeamsEncoderConfig(**bert_like, embedding_size=H)),
        "roformer": ("any", roformer.RoformerEncoderConfig(**bert_like)),
        # BERT under Keras mixed precision: computed, and returned, in float16 or bfloat16.
        "bert_mixed_float16": ("bert", encoders.BertEncoderConfig(**bert_like)),
        "bert_mixed_bfloat16": ("bert", encoders.BertEncoderConfig(**bert_like)),
        "talking_heads": ("bert", encoders.BertEncoderConfig(**bert_like)),
        "copy_pooler": ("bert", encoders.BertEncoderConfig(**bert_like)),
    }


# export_tfhub.py --gin_params, as TF Hub's talkheads_ggelu_bert_en encoders were exported.
TALKING_HEADS_GIN = """
build_encoder.encoder_cls = @EncoderScaffold
EncoderScaffold.hidden_cls = @TransformerScaffold
TransformerScaffold.attention_cls = @TalkingHeadsAttention
TransformerScaffold.feedforward_cls = @GatedFeedforward
"""


def randomize(model: tf.keras.Model, seed: int) -> None:
    """Biases and LayerNorm betas random too, so `+ b` shows; kernels as initialized."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if v.dtype.is_floating and ("bias" in v.name or "beta" in v.name):
            v.assign(rng.normal(0, 0.1, v.shape).astype(v.dtype.as_numpy_dtype))


def export(kind: str, type_name: str, config, vocab_file: str, out: str, seed: int) -> None:
    # Under mixed precision the variables stay float32 and are rounded where they are used.
    policy = kind.removeprefix("bert_") if kind.startswith("bert_mixed_") else "float32"
    tf_keras.mixed_precision.set_global_policy(policy)
    gin.clear_config()
    if kind == "talking_heads":
        gin.parse_config(TALKING_HEADS_GIN)
    encoder_config = encoders.EncoderConfig(type=type_name, **{type_name: config})
    encoder = encoders.build_encoder(encoder_config)
    # Subclassed encoders (Funnel) make their variables on the first call.
    ids = tf.ones([1, MAX_LEN], tf.int32)
    encoder({"input_word_ids": ids, "input_mask": ids, "input_type_ids": tf.zeros_like(ids)})
    randomize(encoder, seed)
    items = {"encoder": encoder}
    if kind == "copy_pooler":
        # A next-sentence head's own pooler dense layer, as BertPretrainerV2.checkpoint_items names it.
        head = tf_keras.layers.Dense(H, activation="tanh")
        head.build([None, H])
        randomize(head, seed + 100)
        head.kernel.assign(np.random.default_rng(seed + 100).normal(0, 0.05, (H, H)).astype(np.float32))
        items["next_sentence.pooler_dense"] = head
        np.save(os.path.join(out, "copy_pooler_head_kernel.npy"), head.kernel.numpy())
    with tempfile.TemporaryDirectory() as tmp:
        path = tf.train.Checkpoint(**items).save(os.path.join(tmp, "ckpt"))
        export_tfhub_lib.export_model(os.path.join(out, kind), encoder_config=encoder_config,
                                      model_checkpoint_path=path, with_mlm=False,
                                      copy_pooler_dense_to_encoder=kind == "copy_pooler",
                                      vocab_file=vocab_file, do_lower_case=True)
    gin.clear_config()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("vocab_file")
    p.add_argument("out_dir")
    p.add_argument("--kinds", nargs="*", help="a subset of the kinds")
    args = p.parse_args()
    with open(args.vocab_file, encoding="utf-8") as f:
        vocab_size = sum(1 for _ in f)
    table = configs(vocab_size)
    kinds = args.kinds or list(table)
    for seed, kind in enumerate(kinds):
        export(kind, *table[kind], args.vocab_file, args.out_dir, seed)
    import official
    print(json.dumps({"exported": {k: os.path.join(args.out_dir, k) for k in kinds},
                      "tensorflow": tf.__version__,
                      "tf_models_official": getattr(official, "__version__", "2.20.0")}))


if __name__ == "__main__":
    main()
