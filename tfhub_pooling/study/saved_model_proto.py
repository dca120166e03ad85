"""What a SavedModel's proto records, read without loading it: graph variants,
signatures, and which file under assets/ a graph tensor stands for.

tensorflow_hub's TF1 exporter (saved_model_lib.py, hub 0.1-0.15) replaced the
value of every asset-path constant with b"SAVEDMODEL-ASSET" and recorded the
real file only as an AssetFileDef (tensor name -> file name under assets/) in
the meta graph's `saved_model_assets` collection; TF1's SavedModel builder
records the same in `asset_file_def`. TF1's hub.Module put the real paths back
on load; TF2's hub.load does not, so the study reads the records itself.
"""

from __future__ import annotations

import os

import tensorflow as tf
from google.protobuf import message, text_format
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from tfhub_pooling import untrusted
from tfhub_pooling.errors import NotAModuleError

# The tag set hub.load picks for a TF1 Hub module: the inference variant.
INFERENCE_TAGS: frozenset[str] = frozenset()


def proto_file(path: str) -> str | None:
    """saved_model.pb, or saved_model.pbtxt, in path; None if neither."""
    for name in (tf.saved_model.SAVED_MODEL_FILENAME_PB, tf.saved_model.SAVED_MODEL_FILENAME_PBTXT):
        if os.path.isfile(os.path.join(path, name)):
            return os.path.join(path, name)
    return None


def read(path: str) -> saved_model_pb2.SavedModel:
    """The SavedModel proto of the module at path, parsed."""
    file = proto_file(path)
    if file is None:
        raise NotAModuleError(f"{path} has no {tf.saved_model.SAVED_MODEL_FILENAME_PB}")
    untrusted.check_size(file, untrusted.MAX_PROTO_BYTES, "the SavedModel graph", NotAModuleError)
    proto = saved_model_pb2.SavedModel()
    try:
        with open(file, "rb") as f:
            data = f.read()
        if file.endswith(".pbtxt"):
            text_format.Parse(data.decode("utf-8"), proto)
        else:
            proto.ParseFromString(data)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as e:
        raise NotAModuleError(f"{file} is damaged ({type(e).__name__}); fetch or unpack the "
                              "module again") from None
    return proto


def graph_variants(proto: saved_model_pb2.SavedModel) -> list[frozenset[str]]:
    """The tag sets of the meta graphs, inference (empty) first."""
    return sorted((frozenset(mg.meta_info_def.tags) for mg in proto.meta_graphs),
                  key=lambda tags: (len(tags), sorted(tags)))


def meta_graph(proto: saved_model_pb2.SavedModel,
               tags: frozenset[str] = INFERENCE_TAGS) -> meta_graph_pb2.MetaGraphDef | None:
    return next((mg for mg in proto.meta_graphs if frozenset(mg.meta_info_def.tags) == tags), None)


def asset_records(graph: meta_graph_pb2.MetaGraphDef) -> dict[str, str]:
    """Graph tensor name -> file name under assets/, from both places exporters record it."""
    records = {a.tensor_info.name: a.filename for a in graph.asset_file_def}
    collection = graph.collection_def.get(tf.compat.v1.saved_model.ASSETS_KEY)
    if collection is not None:
        for packed in collection.any_list.value:
            asset = meta_graph_pb2.AssetFileDef()
            packed.Unpack(asset)
            records[asset.tensor_info.name] = asset.filename
    return records


def signature_output_tensor(graph: meta_graph_pb2.MetaGraphDef, signature: str,
                            output: str) -> str | None:
    """The graph tensor a signature's output is (e.g. `Const:0`); None if absent."""
    sig = graph.signature_def.get(signature)
    if sig is None or output not in sig.outputs:
        return None
    return sig.outputs[output].name


def describe_tags(tags: frozenset[str]) -> str:
    return "{" + ", ".join(f'"{t}"' for t in sorted(tags)) + "}" if tags else "set()"
