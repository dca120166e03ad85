"""A module converted to LiteRT (.tflite) by TensorFlow's own converter, as users convert
one: a TF1 Hub module's `tokens` signature, or a TF2 encoder's __call__ on a dict of int32
ids; `Optimize.DEFAULT` for dynamic-range int8 weights, with float16 as the supported type
for float16 ones. The suite and the upstream tier convert with it; the file is the
converter's, byte for byte."""

from __future__ import annotations

import tensorflow as tf

from tfhub_pooling import atomic

MODES = ("float32", "float16", "int8")
# Full-integer: int8 activations too, calibrated on a representative dataset (the study
# refuses such a model by name; the suite converts one to see that it does).
FULL_INTEGER = "int8-full"
TF2_INPUTS = ("input_word_ids", "input_mask", "input_type_ids")


def convert(saved_model: str, out: str, mode: str = "float32", tf1: bool = False) -> str:
    if tf1:
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=["tokens"], tags=set())
    else:
        obj = tf.saved_model.load(saved_model)
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in TF2_INPUTS}
        converter = tf.lite.TFLiteConverter.from_concrete_functions([obj.__call__.get_concrete_function(spec)], obj)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == FULL_INTEGER:
        converter.representative_dataset = _representative
    data = converter.convert()
    atomic.write_file(out, lambda f: f.write(data), "the LiteRT model")
    return out


def _representative():
    """A few short id sequences (ids below 1000 exist in every vocab the suite uses)."""
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(8):
        ids = np.concatenate([[101], rng.integers(1000, 2000, 6), [102]]).astype(np.int32)[None]
        yield [ids, np.ones_like(ids), np.zeros_like(ids)]
