"""The module formats the study reads and the builder writes."""

TF1_HUB = "tf1-hub"        # TF1 Hub format: `tokens` / `tokenization_info` signatures
TF2_DICT = "tf2-dict"      # TF2 SavedModel called on a dict (the /3, /4 TF2 encoders)
TF2_LIST = "tf2-list"      # TF2 SavedModel called on a list (the /1, /2 TF2 encoders)
PREPROCESS = "preprocess"  # a BERT preprocessing model (strings -> encoder inputs)
CHECKPOINT = "google-research-checkpoint"   # read only: built into a TF1 Hub module

ENCODERS = (TF1_HUB, TF2_DICT, TF2_LIST)
