"""Trains a SentencePiece model with ALBERT's special pieces, so ALBERT modules can
be built without the network (albert_base's 30k-clean.model is on no package index).

Its layout is 30k-clean.model's: <pad> 0, <unk> 1, then the control pieces [CLS] 2,
[SEP] 3, [MASK] 4, then a unigram model over lower-cased text. The training text
is sentences generated from the whole words of the embedded MiniLM's WordPiece
vocab (vocabs.generate_texts): real English words, a fixed seed, one thread,
so the same model every time.
"""

from __future__ import annotations

import os

from tfhub_pooling import atomic
from tfhub_pooling.errors import UsageError

MODEL_NAME = "albert-sp"          # -> albert-sp.model and the albert-sp.vocab listing
SPECIAL = {"pad_id": 0, "unk_id": 1, "bos_id": -1, "eos_id": -1}
CONTROL = ["[CLS]", "[SEP]", "[MASK]"]


def train(dest_dir: str, word_vocab: str, vocab_size: int = 2000, sentences: int = 3000,
          seed: int = 0) -> str:
    """Writes dest_dir/albert-sp.model (and .vocab) atomically; returns the model's path."""
    try:
        import sentencepiece as spm
    except ImportError:
        raise UsageError("building ALBERT needs the sentencepiece package; run "
                         "`pip install 'tfhub-pooling[albert]'`") from None

    from tfhub_pooling.conventions import vocabs

    texts = vocabs.generate_texts(sentences, word_vocab, seed)
    lines = [s.lower() for t in texts for s in (t if isinstance(t, tuple) else (t,))]

    def make(path: str) -> None:
        os.makedirs(path)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=os.path.join(path, MODEL_NAME),
            vocab_size=vocab_size, model_type="unigram", control_symbols=CONTROL, **SPECIAL,
            num_threads=1, shuffle_input_sentence=False, minloglevel=2)

    atomic.make_directory(dest_dir, make, accept_existing=lambda p: os.path.isfile(
        os.path.join(p, MODEL_NAME + ".model")))
    return os.path.join(dest_dir, MODEL_NAME + ".model")
