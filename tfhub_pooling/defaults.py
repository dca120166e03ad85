"""Numbers that more than one part of the package must agree on."""

# Texts per forward pass, in the study, corpus mode and the benchmark.
BATCH_SIZE = 64
# What TF Hub's BERT preprocessing models pack to when called on strings
# (bert_en_uncased_preprocess/3 and the models the builder writes).
PREPROCESS_SEQ_LENGTH = 128
