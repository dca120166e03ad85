"""Writes Hugging Face TF SavedModels, as people serve BERT with TF Serving.

Runs in the `hf-tf` side environment (compat/requirements-hf-tf.txt: transformers
4.47.1, the last line with TF classes, on tensorflow 2.15.1). The weights are a
Hugging Face BERT directory (the MiniLM weights the suite's weights package
ships); TensorFlow reads its PyTorch safetensors itself, so no torch is needed.

    python export_hf_tf.py HF_DIR OUT_DIR
    -> OUT_DIR/save_pretrained     TFBertModel.save_pretrained(saved_model=True), with the tokenizer:
                                   saved_model/1/ (assets/ empty), config.json, vocab.txt,
                                   tokenizer_config.json beside it
       OUT_DIR/saved_model         tf.saved_model.save(model, dir, signatures=serving)
       OUT_DIR/classifier          TFBertForSequenceClassification.save_pretrained(saved_model=True):
                                   returns only logits
       OUT_DIR/hub_names           tf.saved_model.save with a signature that returns TF Hub's names,
                                   pooled_output and sequence_output, as people wrap it to serve it
                                   like a hub module
"""

import argparse
import json
import os

import tensorflow as tf
import transformers
from transformers import BertTokenizer, TFBertForSequenceClassification, TFBertModel


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("hf_dir")
    p.add_argument("out_dir")
    args = p.parse_args()
    tokenizer = BertTokenizer.from_pretrained(args.hf_dir)

    model = TFBertModel.from_pretrained(args.hf_dir)
    pretrained = os.path.join(args.out_dir, "save_pretrained")
    model.save_pretrained(pretrained, saved_model=True)
    tokenizer.save_pretrained(pretrained)

    # The way TF's own guide serves a Keras model: a signature over the model's call.
    @tf.function(input_signature=[{k: tf.TensorSpec([None, None], tf.int32, name=k)
                                   for k in ("input_ids", "attention_mask", "token_type_ids")}])
    def serving(inputs):
        out = model(inputs, training=False)
        return {"last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output}

    tf.saved_model.save(model, os.path.join(args.out_dir, "saved_model"), signatures={"serving_default": serving})

    @tf.function(input_signature=[{k: tf.TensorSpec([None, None], tf.int32, name=k)
                                   for k in ("input_ids", "attention_mask", "token_type_ids")}])
    def as_hub_module(inputs):
        out = model(inputs, training=False)
        return {"sequence_output": out.last_hidden_state, "pooled_output": out.pooler_output}

    tf.saved_model.save(model, os.path.join(args.out_dir, "hub_names"),
                        signatures={"serving_default": as_hub_module})

    classifier = TFBertForSequenceClassification.from_pretrained(args.hf_dir, num_labels=2)
    classifier.save_pretrained(os.path.join(args.out_dir, "classifier"), saved_model=True)
    tokenizer.save_pretrained(os.path.join(args.out_dir, "classifier"))
    print(json.dumps({"exported": args.out_dir, "tensorflow": tf.__version__,
                      "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
