"""Hugging Face transformers in PyTorch, as a user tuned for speed would run it: texts
tokenized once and sorted by their token counts, dynamic padding, batches of 64,
2 threads, inference mode.

    python hf_pipeline.py HF_BERT_DIR TEXTS_FILE  -> one JSON line: texts, hidden size, the
    padded tokens run, and the seconds of its phases (import, load, forward)
"""

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
from transformers import BertModel, BertTokenizerFast  # noqa: E402

BATCH = 64


def main() -> None:
    imported = time.perf_counter()
    model_dir, texts_file = sys.argv[1:3]
    torch.set_num_threads(2)
    tokenizer = BertTokenizerFast.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir).eval()
    loaded = time.perf_counter()
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    # Sorted by token count, not characters: batches of equal token counts pad least.
    encoded = tokenizer(texts, truncation=True, max_length=512)
    order = sorted(range(len(texts)), key=lambda i: len(encoded["input_ids"][i]))
    pooled, padded, forward_s = [], 0, 0.0
    with torch.inference_mode():
        for i in range(0, len(order), BATCH):
            rows = [{k: encoded[k][j] for k in encoded} for j in order[i:i + BATCH]]
            batch = tokenizer.pad(rows, return_tensors="pt")
            padded += batch["input_ids"].numel()
            start = time.perf_counter()
            pooled.append(model(**batch).pooler_output.numpy())
            forward_s += time.perf_counter() - start
    print(json.dumps({"texts": sum(p.shape[0] for p in pooled), "hidden": pooled[0].shape[1],
                      "padded_tokens": padded, "import_s": imported - START, "load_s": loaded - imported,
                      "forward_s": forward_s}))


if __name__ == "__main__":
    main()
