"""TF Hub's documented pipeline: the preprocessing model pads every text to 128 tokens
and the encoder runs on batches of 32, in file order.

    python official_pipeline.py ENCODER PREPROCESS TEXTS_FILE  -> prints texts and pooled shape
"""

import sys

import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  (registers the preprocessing model's ops)

BATCH = 32


def main() -> None:
    encoder_path, preprocess_path, texts_file = sys.argv[1:4]
    preprocess, encoder = hub.load(preprocess_path), hub.load(encoder_path)
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    pooled = [encoder(preprocess(tf.constant(texts[i:i + BATCH])))["pooled_output"].numpy()
              for i in range(0, len(texts), BATCH)]
    print(len(texts), sum(p.shape[0] for p in pooled), pooled[0].shape[1])


if __name__ == "__main__":
    main()
