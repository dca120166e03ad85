"""Exports a google-research BERT checkpoint as TF Model Garden exports the TF2
encoders (tensorflow/bert_en_*/3, /4) and their preprocessing model.

Runs in the `model-garden` side environment (compat/requirements-model-garden.txt:
tf-models-official 2.20.0). Everything is Model Garden's own code: the TF1
checkpoint is converted with tf2_bert_encoder_checkpoint_converter, the encoder
exported with export_tfhub_lib.export_model, the preprocessing model with
export_tfhub_lib.export_preprocessing.

    python export_model_garden.py CHECKPOINT_DIR OUT_DIR [--cased]
    -> OUT_DIR/encoder, OUT_DIR/preprocess
"""

import argparse
import json
import os
import tempfile

import tensorflow as tf
from official.legacy.bert import configs
from official.nlp.tools import export_tfhub_lib, tf2_bert_encoder_checkpoint_converter


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint_dir")
    p.add_argument("out_dir")
    p.add_argument("--cased", action="store_true")
    args = p.parse_args()
    bert_config = configs.BertConfig.from_json_file(os.path.join(args.checkpoint_dir, "bert_config.json"))
    vocab_file = os.path.join(args.checkpoint_dir, "vocab.txt")
    with tempfile.TemporaryDirectory() as tmp:
        tf2_bert_encoder_checkpoint_converter.convert_checkpoint(
            bert_config, os.path.join(tmp, "converted", "bert_model"),
            os.path.join(args.checkpoint_dir, "bert_model.ckpt"),
            checkpoint_model_name="encoder", converted_model="encoder")
        export_tfhub_lib.export_model(
            os.path.join(args.out_dir, "encoder"), bert_config=bert_config,
            model_checkpoint_path=tf.train.latest_checkpoint(os.path.join(tmp, "converted")),
            with_mlm=False, vocab_file=vocab_file, do_lower_case=not args.cased)
    export_tfhub_lib.export_preprocessing(
        os.path.join(args.out_dir, "preprocess"), vocab_file=vocab_file,
        do_lower_case=not args.cased, tokenize_with_offsets=False, default_seq_length=128)
    import official
    print(json.dumps({"exported": args.out_dir, "tensorflow": tf.__version__,
                      "tf_models_official": getattr(official, "__version__", "2.20.0")}))


if __name__ == "__main__":
    main()
