"""TF Hub's documented pipeline: the preprocessing model pads every text to 128 tokens
and the encoder runs on batches of 32, in file order.

    python official_pipeline.py ENCODER PREPROCESS TEXTS_FILE  -> one JSON line: texts, hidden
    size, the padded tokens run, and the seconds of its phases (import, load, forward: the
    encoder's calls alone)
"""

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import tensorflow as tf  # noqa: E402
import tensorflow_hub as hub  # noqa: E402
import tensorflow_text  # noqa: E402,F401  (registers the preprocessing model's ops)

BATCH = 32


def main() -> None:
    imported = time.perf_counter()
    encoder_path, preprocess_path, texts_file = sys.argv[1:4]
    preprocess, encoder = hub.load(preprocess_path), hub.load(encoder_path)
    loaded = time.perf_counter()
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    pooled, padded, forward_s = [], 0, 0.0
    for i in range(0, len(texts), BATCH):
        inputs = preprocess(tf.constant(texts[i:i + BATCH]))
        padded += int(tf.size(inputs["input_word_ids"]))
        start = time.perf_counter()
        pooled.append(encoder(inputs)["pooled_output"].numpy())
        forward_s += time.perf_counter() - start
    print(json.dumps({"texts": sum(p.shape[0] for p in pooled), "hidden": pooled[0].shape[1],
                      "padded_tokens": padded, "import_s": imported - START, "load_s": loaded - imported,
                      "forward_s": forward_s}))


if __name__ == "__main__":
    main()
