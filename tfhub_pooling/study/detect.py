"""What a resolved local directory holds, said once for `verify`, `inspect`, corpus
mode and the many-module run.

On disk there are five kinds: a KerasHub preset (config.json naming a Keras class),
a google-research checkpoint directory (bert_config.json and its checkpoint), the
directory Hugging Face's `save_pretrained(saved_model=True)` writes (config.json,
vocab.txt and saved_model/<version>/), a Hugging Face checkpoint (config.json naming a
model_type, safetensors), and a SavedModel; and one file, a LiteRT model (.tflite). Which interface a
SavedModel offers (TF1 Hub, TF2 dict or list, preprocessing model, Hugging Face
serving signature) is told from what hub.load returns (loading.detect_format).
"""

from __future__ import annotations

import dataclasses
import os

from tfhub_pooling import untrusted
from tfhub_pooling.conventions.checkpoints import checkpoint_architecture
from tfhub_pooling.errors import NotAModuleError
from tfhub_pooling.formats import CHECKPOINT, HF_CHECKPOINT, KERAS_HUB, LITERT
from tfhub_pooling.study import hf_checkpoint, keras_hub_loading, litert

HF_SAVE_PRETRAINED = "hf-save-pretrained"
SAVED_MODEL = "saved-model"


@dataclasses.dataclass(frozen=True)
class OnDisk:
    kind: str
    path: str                 # the directory the handle resolved to
    saved_model: str | None   # where the SavedModel is: path itself, or save_pretrained's saved_model/<version>


def detect(path: str) -> OnDisk:
    if litert.is_litert(path):
        return OnDisk(LITERT, path, None)
    if keras_hub_loading.is_preset(path):
        return OnDisk(KERAS_HUB, path, None)
    if checkpoint_architecture(path) is not None:
        return OnDisk(CHECKPOINT, path, None)
    versions = _saved_model_versions(path)
    if versions and os.path.isfile(os.path.join(path, "config.json")):
        inner = untrusted.inside(path, os.path.join("saved_model", str(max(versions))),
                                 "save_pretrained's SavedModel", NotAModuleError)
        return OnDisk(HF_SAVE_PRETRAINED, path, inner.path)
    if hf_checkpoint.is_checkpoint(path) and not os.path.isfile(os.path.join(path, "saved_model.pb")):
        return OnDisk(HF_CHECKPOINT, path, None)
    return OnDisk(SAVED_MODEL, path, path)


def _saved_model_versions(path: str) -> list[int]:
    """The numbered SavedModels under path/saved_model/, as TF Serving lays them out."""
    root = os.path.join(path, "saved_model")
    if not os.path.isdir(root) or os.path.isfile(os.path.join(path, "saved_model.pb")):
        return []
    return [int(name) for name in os.listdir(root)
            if name.isdigit() and os.path.isfile(os.path.join(root, name, "saved_model.pb"))]
