"""Exports a google-research BERT checkpoint as Google exported google/bert_*/1.

Runs in the `tf1-hub` side environment (compat/requirements-tf1-hub.txt:
tensorflow 2.15.1, tensorflow-hub 0.15.0, the last release with the TF1
exporter, and bert-tensorflow 1.0.1, google-research's modeling.py of early
2019). The module is made by the upstream code itself: modeling.BertModel
inside hub.create_module_spec with graph variants {"train"} (dropout on) and
set() (inference), hub.add_signature, spec.export(checkpoint_path=...).

    python export_tf1_hub.py CHECKPOINT_DIR OUT_DIR [--cased]
"""

import argparse
import json
import os
import sys
import types

import tensorflow.compat.v1 as tf
import tensorflow_hub as hub
import tf_slim

# modeling.py is TF1 code (`import tensorflow as tf`, tf.contrib.layers.layer_norm);
# tf-slim's layer_norm is the same function with the same variable names.
tf.contrib = types.SimpleNamespace(layers=types.SimpleNamespace(layer_norm=tf_slim.layer_norm))
sys.modules["tensorflow"] = tf
from bert import modeling  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint_dir")
    p.add_argument("out_dir")
    p.add_argument("--cased", action="store_true")
    args = p.parse_args()
    tf.disable_eager_execution()
    config = modeling.BertConfig.from_json_file(os.path.join(args.checkpoint_dir, "bert_config.json"))
    vocab_path = os.path.join(args.checkpoint_dir, "vocab.txt")

    def module_fn(is_training):
        inputs = {name: tf.placeholder(tf.int32, [None, None], name)
                  for name in ("input_ids", "input_mask", "segment_ids")}
        model = modeling.BertModel(config, is_training, inputs["input_ids"], inputs["input_mask"],
                                   inputs["segment_ids"], use_one_hot_embeddings=False)
        hub.add_signature("tokens", inputs, {"pooled_output": model.get_pooled_output(),
                                             "sequence_output": model.get_sequence_output()})
        vocab_file = tf.constant(vocab_path)
        tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, vocab_file)
        hub.add_signature("tokenization_info", {}, {"vocab_file": vocab_file,
                                                    "do_lower_case": tf.constant(not args.cased)})

    spec = hub.create_module_spec(module_fn, tags_and_args=[({"train"}, {"is_training": True}),
                                                            (set(), {"is_training": False})])
    spec.export(args.out_dir, checkpoint_path=os.path.join(args.checkpoint_dir, "bert_model.ckpt"))
    print(json.dumps({"exported": args.out_dir, "tensorflow": tf.__version__,
                      "tensorflow_hub": hub.__version__}))


if __name__ == "__main__":
    main()
