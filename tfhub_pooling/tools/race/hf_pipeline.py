"""Hugging Face transformers in PyTorch, as a user tuned for speed would run it: texts
sorted by length, dynamic padding, batches of 64, 2 threads, inference mode.

    python hf_pipeline.py HF_BERT_DIR TEXTS_FILE  -> prints texts and pooled shape
"""

import sys

import torch
from transformers import BertModel, BertTokenizerFast

BATCH = 64


def main() -> None:
    model_dir, texts_file = sys.argv[1:3]
    torch.set_num_threads(2)
    tokenizer = BertTokenizerFast.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir).eval()
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    pooled = []
    with torch.inference_mode():
        for i in range(0, len(order), BATCH):
            batch = tokenizer([texts[j] for j in order[i:i + BATCH]], padding=True, truncation=True,
                              max_length=512, return_tensors="pt")
            pooled.append(model(**batch).pooler_output.numpy())
    print(len(texts), sum(p.shape[0] for p in pooled), pooled[0].shape[1])


if __name__ == "__main__":
    main()
