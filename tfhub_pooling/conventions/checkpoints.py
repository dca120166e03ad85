"""The files of a google-research checkpoint directory (BERT's and ALBERT's), as the
published archives unpack: what the builder reads and writes, and what tells the
provisioning step that a handle is a checkpoint to build into a module first."""

from __future__ import annotations

import dataclasses
import os

BERT = "bert"
ALBERT = "albert"


@dataclasses.dataclass(frozen=True)
class CheckpointFiles:
    config: str
    checkpoint: str     # the checkpoint's prefix
    vocab: str


CHECKPOINT_FILES = {
    BERT: CheckpointFiles("bert_config.json", "bert_model.ckpt", "vocab.txt"),        # uncased_L-12_H-768_A-12.zip
    ALBERT: CheckpointFiles("albert_config.json", "model.ckpt-best", "30k-clean.model"),  # albert_base_v2.tar.gz
}


def checkpoint_architecture(path: str | os.PathLike) -> str | None:
    """BERT or ALBERT if path holds that layout's config and checkpoint index; else None."""
    for architecture, files in CHECKPOINT_FILES.items():
        if (os.path.isfile(os.path.join(path, files.config))
                and os.path.isfile(os.path.join(path, files.checkpoint + ".index"))):
            return architecture
    return None
