"""Exports a BERT encoder with Model Garden's legacy exporter: list inputs and outputs,
as the first TF2 encoders on TF Hub were (tensorflow/bert_en_*/1 and /2).

Runs in the `model-garden` side environment. Model Garden's own
official/legacy/bert/export_tfhub.py, its export_bert_tfhub, restores the TF2
checkpoint export_model_garden.py converted. A process of its own: that module and
the checkpoint converter define the same absl flags at import.

    python export_model_garden_legacy.py CHECKPOINT_DIR CONVERTED_DIR OUT_DIR
    -> OUT_DIR (the last stdout line is JSON)
"""

import argparse
import json
import os

import tensorflow as tf
from official.legacy.bert import configs, export_tfhub


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint_dir", help="the google-research checkpoint: bert_config.json, vocab.txt")
    p.add_argument("converted_dir", help="the TF2 checkpoint export_model_garden.py converted")
    p.add_argument("out_dir")
    args = p.parse_args()
    config = configs.BertConfig.from_json_file(os.path.join(args.checkpoint_dir, "bert_config.json"))
    export_tfhub.export_bert_tfhub(config, tf.train.latest_checkpoint(args.converted_dir), args.out_dir,
                                   os.path.join(args.checkpoint_dir, "vocab.txt"), do_lower_case=True)
    print(json.dumps({"exported": args.out_dir, "tensorflow": tf.__version__}))


if __name__ == "__main__":
    main()
