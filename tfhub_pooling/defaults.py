"""Numbers that more than one part of the package must agree on."""

# Texts per forward pass, in the study, corpus mode and the benchmark.
BATCH_SIZE = 64
# What TF Hub's BERT preprocessing models pack to when called on strings
# (bert_en_uncased_preprocess/3 and the models the builder writes).
PREPROCESS_SEQ_LENGTH = 128
# Forward passes running at once (corpus mode, run_texts, the benchmark). One batch
# alone leaves a core idle in the module's small ops (LayerNorm, softmax, GELU,
# [B, S, S] attention); a second batch in flight fills it. Measured on 2 cores with the
# default module's bare calls over 512 texts: 1.11-1.19x against one at a time, and the
# outputs bit for bit the same.
BATCHES_IN_FLIGHT = 2
