"""Saves KerasHub presets the way keras-nlp did, before it became keras_hub.

Runs in the `keras-nlp` side environments (compat/requirements-keras-nlp.txt: keras-nlp
0.15.1, keras 3.5.0, tensorflow 2.17.1; compat/requirements-keras-nlp-0.12.txt: keras-nlp
0.12.1, keras 3.3.3, tensorflow 2.16.2), whose presets name their classes
`keras_nlp>BertBackbone`: Kaggle still serves many such presets. keras-nlp 0.12 has no
Hugging Face converter: there, `--kinds tiny distilbert`.

    python export_keras_nlp.py HF_DIR OUT_DIR [--kinds minilm tiny distilbert]
    -> OUT_DIR/minilm      the real MiniLM weights, converted by keras-nlp's own
                           Hugging Face converter (BertBackbone.from_preset on the weights)
       OUT_DIR/tiny        a seeded random two-layer BertBackbone with the same vocab
       OUT_DIR/distilbert  a seeded random DistilBertBackbone: no pooler, no pooled_output
"""

import argparse
import json
import os
import shutil
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import keras_nlp  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402


def bert_for_pretraining_key(key: str) -> str:
    """The name google-bert/bert-base-uncased's model.safetensors gives a tensor, which
    keras-nlp 0.15's converter reads: under `bert.`, LayerNorm's as gamma and beta."""
    key = key if key.startswith("bert.") else f"bert.{key}"
    if ".LayerNorm." in key:
        key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return key


def as_bert_for_pretraining(hf_dir: str, to: str) -> str:
    """The same tensors under those names; the MiniLM package ships them as
    sentence-transformers saves them."""
    os.makedirs(to)
    tensors = load_file(os.path.join(hf_dir, "model.safetensors"))
    save_file({bert_for_pretraining_key(k): np.ascontiguousarray(v) for k, v in tensors.items()},
              os.path.join(to, "model.safetensors"))
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(hf_dir, name), to)
    return to


def randomize_biases(model: keras.Model, seed: int) -> None:
    """Non-zero biases, so a missing `+ b` shows; a fresh Dense has a zero one."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if w.path.endswith("bias"):
            w.assign(rng.normal(0, 0.1, w.shape).astype("float32"))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("hf_dir")
    p.add_argument("out_dir")
    p.add_argument("--kinds", nargs="*", default=["minilm", "tiny", "distilbert"])
    args = p.parse_args()
    vocab = os.path.join(args.hf_dir, "vocab.txt")
    if "minilm" in args.kinds:
        with tempfile.TemporaryDirectory() as tmp:
            source = as_bert_for_pretraining(args.hf_dir, os.path.join(tmp, "hf"))
            backbone = keras_nlp.models.BertBackbone.from_preset(source)
            tokenizer = keras_nlp.models.BertTokenizer.from_preset(source)
            backbone.save_to_preset(os.path.join(args.out_dir, "minilm"))
            tokenizer.save_to_preset(os.path.join(args.out_dir, "minilm"))

    keras.utils.set_random_seed(0)
    small = dict(vocabulary_size=sum(1 for _ in open(vocab, encoding="utf-8")), num_layers=2, num_heads=2,
                 hidden_dim=64, intermediate_dim=128, max_sequence_length=128)
    if "tiny" in args.kinds:
        tiny = keras_nlp.models.BertBackbone(**small)
        randomize_biases(tiny, 1)
        tiny.save_to_preset(os.path.join(args.out_dir, "tiny"))
        keras_nlp.models.BertTokenizer(vocabulary=vocab, lowercase=True).save_to_preset(
            os.path.join(args.out_dir, "tiny"))
    if "distilbert" in args.kinds:
        distil = keras_nlp.models.DistilBertBackbone(**small)
        distil.save_to_preset(os.path.join(args.out_dir, "distilbert"))
        keras_nlp.models.DistilBertTokenizer(vocabulary=vocab, lowercase=True).save_to_preset(
            os.path.join(args.out_dir, "distilbert"))
    print(json.dumps({"exported": args.out_dir, "keras_nlp": keras_nlp.__version__, "keras": keras.__version__,
                      "tensorflow": tf.__version__}))


if __name__ == "__main__":
    main()
