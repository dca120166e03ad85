"""transformers 5 (PyTorch, CPU) writes Hugging Face checkpoints as people save them, and
computes what its own classes compute on given ids. Runs in the `transformers` side
environment (requirements-transformers.txt).

  export_transformers.py save MINILM_DIR SPIECE_MODEL OUT
      OUT/<name>/ for each class in CLASSES: config.json, model.safetensors (or shards),
      the tokenizer as save_pretrained writes it; prints {"written": [...]}.
  export_transformers.py run CHECKPOINT ARRAYS.npz OUT.npz
      transformers' AutoModel on the npz's input_ids, input_mask, segment_ids:
      pooler_output [B, H] and last_hidden_state [B, S, H] into OUT.npz.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import sentencepiece
import torch
import transformers as hf

# Small random configs for the families with no real weights on this machine.
ALBERT = {"vocab_size": 0, "embedding_size": 32, "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 2, "intermediate_size": 128, "max_position_embeddings": 128}
DISTILBERT = {"vocab_size": 30522, "dim": 64, "n_layers": 2, "n_heads": 2, "hidden_dim": 128,
              "max_position_embeddings": 128}
ROBERTA = {"vocab_size": 30522, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
           "intermediate_size": 128, "max_position_embeddings": 130}


def save(minilm: str, spiece: str, out: str) -> list[str]:
    torch.manual_seed(0)
    root = Path(out)
    tokenizer = hf.AutoTokenizer.from_pretrained(minilm)
    written = []

    def write(name: str, model, tok=tokenizer, **kwargs) -> None:
        model.save_pretrained(root / name, **kwargs)
        tok.save_pretrained(root / name)
        written.append(name)

    write("bert_model", hf.BertModel.from_pretrained(minilm))
    write("bert_for_pretraining", hf.BertForPreTraining.from_pretrained(minilm))
    write("bert_for_masked_lm", hf.BertForMaskedLM.from_pretrained(minilm))
    write("bert_for_sequence_classification", hf.BertForSequenceClassification.from_pretrained(minilm))
    write("bert_sharded", hf.BertModel.from_pretrained(minilm), max_shard_size="8MB")
    write("bert_no_pooling_layer", hf.BertModel.from_pretrained(minilm, add_pooling_layer=False))

    # transformers 5's AlbertTokenizer takes the pieces and scores (it no longer reads spiece.model).
    sp = sentencepiece.SentencePieceProcessor(model_file=spiece)
    pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    albert_tok = hf.AlbertTokenizer(vocab=pieces, do_lower_case=True)
    albert = hf.AlbertConfig(**(ALBERT | {"vocab_size": len(pieces)}))
    for name, cls in (("albert_model", hf.AlbertModel), ("albert_for_pretraining", hf.AlbertForPreTraining)):
        write(name, cls(albert), albert_tok)
        shutil.copy(spiece, root / name / "spiece.model")     # as hub repositories ship it beside
    write("distilbert_model", hf.DistilBertModel(hf.DistilBertConfig(**DISTILBERT)))
    write("roberta_model", hf.RobertaModel(hf.RobertaConfig(**ROBERTA)))
    return written


def run(checkpoint: str, arrays: str, out: str) -> None:
    ids = np.load(arrays)
    model = hf.AutoModel.from_pretrained(checkpoint).eval()
    with torch.no_grad():
        result = model(input_ids=torch.from_numpy(ids["input_ids"].astype(np.int64)),
                       attention_mask=torch.from_numpy(ids["input_mask"].astype(np.int64)),
                       token_type_ids=torch.from_numpy(ids["segment_ids"].astype(np.int64)))
    np.savez(out, pooler_output=result.pooler_output.numpy(), last_hidden_state=result.last_hidden_state.numpy())


if __name__ == "__main__":
    torch.set_num_threads(2)
    if sys.argv[1] == "save":
        print(json.dumps({"written": save(*sys.argv[2:5]), "transformers": hf.__version__}))
    else:
        run(*sys.argv[2:5])
        print(json.dumps({"ran": sys.argv[2], "transformers": hf.__version__}))
