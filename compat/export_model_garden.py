"""Exports a google-research BERT or ALBERT checkpoint as TF Model Garden exports the
TF2 encoders (tensorflow/bert_en_*/3 and /4, tensorflow/albert_en_*/1-3) and their
preprocessing models.

Runs in the `model-garden` side environment (compat/requirements-model-garden.txt:
tf-models-official 2.20.0). Everything is Model Garden's own code: the TF1
checkpoint is converted with tf2_bert_encoder_checkpoint_converter (ALBERT:
tf2_albert_encoder_checkpoint_converter), the encoder exported with
export_tfhub_lib.export_model, the preprocessing model with
export_tfhub_lib.export_preprocessing. ALBERT's are exported with its SentencePiece
model as `sp_model_file`, lower case and accents stripped, as Model Garden did.

    python export_model_garden.py CHECKPOINT_DIR OUT_DIR [--cased]
    -> OUT_DIR/encoder, OUT_DIR/preprocess, and OUT_DIR/converted (the TF2 checkpoint the
       converter wrote, which export_model_garden_legacy.py exports the old way)
"""

import argparse
import importlib
import json
import os

import tensorflow as tf
from official.legacy.albert import configs as albert_configs
from official.legacy.bert import configs
from official.nlp.configs import encoders
from official.nlp.tools import export_tfhub_lib

# The two converters define the same absl flags at import: import only the one used.
CONVERTER = "official.nlp.tools.tf2_{}_encoder_checkpoint_converter"


def albert_encoder_config(c) -> encoders.EncoderConfig:
    return encoders.EncoderConfig(type="albert", albert=encoders.AlbertEncoderConfig(
        vocab_size=c.vocab_size, embedding_width=c.embedding_size, hidden_size=c.hidden_size,
        num_layers=c.num_hidden_layers, num_attention_heads=c.num_attention_heads,
        hidden_activation=c.hidden_act, intermediate_size=c.intermediate_size,
        dropout_rate=c.hidden_dropout_prob, attention_dropout_rate=c.attention_probs_dropout_prob,
        max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size,
        initializer_range=c.initializer_range))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint_dir")
    p.add_argument("out_dir")
    p.add_argument("--cased", action="store_true")
    args = p.parse_args()
    albert = os.path.isfile(os.path.join(args.checkpoint_dir, "albert_config.json"))
    if albert:
        config = albert_configs.AlbertConfig.from_json_file(os.path.join(args.checkpoint_dir, "albert_config.json"))
        converter, checkpoint = importlib.import_module(CONVERTER.format("albert")), "model.ckpt-best"
        model = {"encoder_config": albert_encoder_config(config)}
        vocab = {"sp_model_file": os.path.join(args.checkpoint_dir, "30k-clean.model"), "do_lower_case": True}
    else:
        config = configs.BertConfig.from_json_file(os.path.join(args.checkpoint_dir, "bert_config.json"))
        converter, checkpoint = importlib.import_module(CONVERTER.format("bert")), "bert_model.ckpt"
        model = {"bert_config": config}
        vocab = {"vocab_file": os.path.join(args.checkpoint_dir, "vocab.txt"), "do_lower_case": not args.cased}
    converted = os.path.join(args.out_dir, "converted")
    # The ALBERT converter, unlike BERT's, saves into temp_v1/ without making it.
    os.makedirs(os.path.join(converted, "temp_v1"))
    converter.convert_checkpoint(config, os.path.join(converted, "bert_model"),
                                 os.path.join(args.checkpoint_dir, checkpoint),
                                 checkpoint_model_name="encoder", converted_model="encoder")
    export_tfhub_lib.export_model(
        os.path.join(args.out_dir, "encoder"), **model,
        model_checkpoint_path=tf.train.latest_checkpoint(converted), with_mlm=False, **vocab)
    export_tfhub_lib.export_preprocessing(
        os.path.join(args.out_dir, "preprocess"), **vocab, tokenize_with_offsets=False,
        default_seq_length=128)
    import official
    print(json.dumps({"exported": args.out_dir, "architecture": "albert" if albert else "bert",
                      "tensorflow": tf.__version__,
                      "tf_models_official": getattr(official, "__version__", "2.20.0")}))


if __name__ == "__main__":
    main()
