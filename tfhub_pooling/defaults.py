"""Numbers that more than one part of the package must agree on."""

# Texts per forward pass, in the study, corpus mode and the benchmark.
BATCH_SIZE = 64
# What TF Hub's BERT preprocessing models pack to when called on strings
# (bert_en_uncased_preprocess/3 and the models the builder writes).
PREPROCESS_SEQ_LENGTH = 128
# Forward passes running at once (corpus mode, run_texts, the benchmark). One batch
# alone leaves a core idle in the module's small ops (LayerNorm, softmax, GELU,
# [B, S, S] attention); a second batch in flight fills it. Measured on 2 cores, against
# one at a time: the default module's calls 1.04-1.15x faster, its KerasHub preset's
# 1.19x, the outputs bit for bit the same (docs/speed.md).
BATCHES_IN_FLIGHT = 2
