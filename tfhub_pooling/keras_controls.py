"""Negative controls for KerasHub presets. A preset computes its pooler from the
weights it stores, so a wrong pooler needs another model class: this BertBackbone
returns cls, or the mean of the tokens, as pooled_output while it still stores
`pooled_dense`. It is registered with Keras, so a preset saved with it loads back
as written wherever this package is imported (the builder writes it, the study
reads it)."""

from __future__ import annotations

import keras
import keras_hub

CONTROLS = ("identity", "mean")


@keras.saving.register_keras_serializable(package="tfhub_pooling")
class ControlBertBackbone(keras_hub.models.BertBackbone):
    def __init__(self, pooler_control: str = "identity", **kwargs):
        super().__init__(**kwargs)
        if pooler_control not in CONTROLS:
            raise ValueError(f"pooler_control must be one of {CONTROLS}, not {pooler_control!r}")
        self.pooler_control = pooler_control

    def call(self, inputs, training=None, mask=None):
        out = super().call(inputs, training=training, mask=mask)
        sequence = out["sequence_output"]                      # [B, S, H]
        if self.pooler_control == "identity":
            pooled = sequence[:, 0, :]
        else:
            weights = keras.ops.cast(inputs["padding_mask"], sequence.dtype)[:, :, None]
            pooled = keras.ops.sum(sequence * weights, axis=1) / keras.ops.sum(weights, axis=1)
        return {"sequence_output": sequence, "pooled_output": pooled}

    def get_config(self):
        return super().get_config() | {"pooler_control": self.pooler_control}


@keras.saving.register_keras_serializable(package="tfhub_pooling")
class ControlBertTokenizer(keras_hub.models.BertTokenizer):
    """BertTokenizer, paired with the control backbone so Tokenizer.from_preset finds it."""

    backbone_cls = ControlBertBackbone
