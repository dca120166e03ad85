"""Writes a BERT as a module in TF1 Hub format, the way tensorflow_hub's TF1
exporter (`hub.create_module_spec(...).export`, hub 0.1-0.15) wrote
google/bert_uncased_L-12_H-768_A-12/1:

  graph variants   set() (inference) and {"train"} (dropout on), as
                   google-research's run_classifier_with_tfhub.py selects them by tags
  signature `tokens`: input_ids, input_mask, segment_ids  int32 [B, S]
                      -> pooled_output float32 [B, H], sequence_output float32 [B, S, H]
  signature `tokenization_info`: () -> vocab_file string, do_lower_case bool
  assets           the vocab's path constant holds b"SAVEDMODEL-ASSET"; the file is
                   recorded only as an AssetFileDef in the `saved_model_assets` collection.
                   For a SentencePiece vocab, as google-research/albert's export_to_tfhub.py
                   made google/albert_base/1-3: the output `vocab_file` is the constant
                   named `vocab_model` (the .model file), and a constant named `vocab_file`
                   holds the .vocab text listing, outside any signature
  variables        resource variables under google-research names, one checkpoint
                   for both variants, no saver_def (as hub's exporter leaves it)
  tfhub_module.pb  ModuleDef {format: FORMAT_V3}

tensorflow_hub 0.16 no longer has that exporter, so this writer assembles the
same SavedModel proto itself from `export_meta_graph`, as saved_model_lib.py did.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from tfhub_pooling.builder import bert, controls
from tfhub_pooling.builder.bert_config import POOLER_BIAS, POOLER_KERNEL, BertWeights
from tfhub_pooling.conventions import vocabs

v1 = tf.compat.v1

# The serialized ModuleDef proto {format: FORMAT_V3}: marks the format and
# makes hub.load pick the empty tag set.
TFHUB_MODULE_PB = b"\x08\x03"
ASSET_PLACEHOLDER = b"SAVEDMODEL-ASSET"
GRAPH_VARIANTS = ((frozenset(), False), (frozenset({"train"}), True))   # (tags, dropout)
INPUTS = ("input_ids", "input_mask", "segment_ids")


def write(weights: BertWeights, export_dir: str, control: controls.Control | None = None) -> None:
    """Writes the module into export_dir, which must not exist yet.

    control: a negative control (controls.py) in place of the true pooler.
    """
    stored, baked = controls.split_stored(control, weights.params)
    assets = _asset_files(weights)
    proto = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    for tags, training in GRAPH_VARIANTS:
        with tf.Graph().as_default():
            variables, signatures = _graph(weights, stored, baked, control, training, assets)
            meta_graph = v1.train.export_meta_graph(strip_default_attrs=True)
            meta_graph.meta_info_def.tags[:] = sorted(tags)
            for name, signature in signatures.items():
                meta_graph.signature_def[name].CopyFrom(signature)
            _record_assets(meta_graph)
            proto.meta_graphs.append(meta_graph)
            if not tags:
                save_variables(variables, stored, os.path.join(export_dir, "variables", "variables"))
    os.makedirs(os.path.join(export_dir, "assets"))
    for path, _ in assets:
        shutil.copyfile(path, os.path.join(export_dir, "assets", os.path.basename(path)))
    with open(os.path.join(export_dir, tf.saved_model.SAVED_MODEL_FILENAME_PB), "wb") as f:
        f.write(proto.SerializeToString())
    with open(os.path.join(export_dir, "tfhub_module.pb"), "wb") as f:
        f.write(TFHUB_MODULE_PB)


def _graph(weights: BertWeights, stored: dict, baked: dict, control: controls.Control | None,
           training: bool, asset_files: list[tuple[str, str]]
           ) -> tuple[dict[str, tf.Variable], dict[str, meta_graph_pb2.SignatureDef]]:
    """Builds one graph variant in the default graph; returns its variables and signatures."""
    inputs = {name: v1.placeholder(tf.int32, [None, None], name=name) for name in INPUTS}
    # Variables start at zero and are filled from feeds when saved, so the
    # weights live in the checkpoint only, not as constants in the graph.
    variables = {name: v1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                       initializer=v1.zeros_initializer(), use_resource=True)
                 for name, value in stored.items()}
    params = dict(variables) | {name: tf.constant(value) for name, value in baked.items()}
    sequence_output = bert.encoder(params, inputs["input_ids"], inputs["input_mask"],
                                   inputs["segment_ids"], weights.config, bert.MODELING_PY_STYLE,
                                   training)[-1]
    pooled = controls.pooled_output(control, sequence_output, inputs["input_mask"],
                                    params[POOLER_KERNEL], params[POOLER_BIAS])
    outputs = {"sequence_output": tf.identity(sequence_output, name="sequence_output"),
               "pooled_output": tf.identity(pooled, name="pooled_output")}
    # The exporter machine's paths; _record_assets swaps them for the placeholder.
    assets = [tf.constant(os.path.abspath(path), name=name) for path, name in asset_files]
    for asset in assets:
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset)
    info = {"vocab_file": assets[0],
            "do_lower_case": tf.constant(weights.do_lower_case, name="do_lower_case")}
    info_of = v1.saved_model.utils.build_tensor_info
    signatures = {name: v1.saved_model.signature_def_utils.build_signature_def(
                  inputs={k: info_of(t) for k, t in ins.items()},
                  outputs={k: info_of(t) for k, t in outs.items()})
                  for name, (ins, outs) in {"tokens": (inputs, outputs),
                                            "tokenization_info": ({}, info)}.items()}
    return variables, signatures


def _asset_files(weights: BertWeights) -> list[tuple[str, str]]:
    """(file, name of its path constant): the vocab first, the one tokenization_info returns;
    for a SentencePiece model, also the .vocab listing beside it, if any."""
    if vocabs.read(weights.vocab_file).kind == vocabs.WORDPIECE:
        return [(weights.vocab_file, "vocab_file")]
    listing = os.path.splitext(weights.vocab_file)[0] + ".vocab"
    return [(weights.vocab_file, "vocab_model")] + [(listing, "vocab_file")] * os.path.isfile(listing)


def _record_assets(meta_graph: meta_graph_pb2.MetaGraphDef) -> None:
    """What saved_model_lib._make_assets_key_collection does: every constant in
    ASSET_FILEPATHS gets the placeholder, and its file goes on record by name."""
    asset_nodes = {t.split(":")[0] for t in
                   meta_graph.collection_def[v1.GraphKeys.ASSET_FILEPATHS].node_list.value}
    records = meta_graph.collection_def[v1.saved_model.ASSETS_KEY]
    for node in meta_graph.graph_def.node:
        if node.name in asset_nodes:
            value = node.attr["value"].tensor.string_val
            asset = meta_graph_pb2.AssetFileDef(filename=os.path.basename(value[0].decode()))
            asset.tensor_info.name = node.name + ":0"
            records.any_list.value.add().Pack(asset)
            value[0] = ASSET_PLACEHOLDER


def save_variables(variables: dict[str, tf.Variable], values: dict, prefix: str) -> None:
    """A TF1 checkpoint at prefix of the default graph's variables, holding values."""
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    with v1.Session() as sess:
        # Fed through each variable's initial value, so no weight becomes a graph constant.
        sess.run([v.initializer for v in variables.values()],
                 {variables[name].initial_value: value for name, value in values.items()})
        v1.train.Saver(variables).save(sess, prefix, write_meta_graph=False, write_state=False)
