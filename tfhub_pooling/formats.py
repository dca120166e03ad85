"""The module formats the study reads and the builder writes."""

TF1_HUB = "tf1-hub"        # TF1 Hub format: `tokens` / `tokenization_info` signatures
TF2_DICT = "tf2-dict"      # TF2 SavedModel called on a dict (the /3, /4 TF2 encoders)
TF2_LIST = "tf2-list"      # TF2 SavedModel called on a list (the /1, /2 TF2 encoders)
PREPROCESS = "preprocess"  # a BERT preprocessing model (strings -> encoder inputs)
CHECKPOINT = "google-research-checkpoint"   # bert_config.json + bert_model.ckpt + vocab.txt
KERAS_HUB = "keras-hub-preset"             # a KerasHub preset directory (Kaggle Models' Keras format)
HF_TF = "hf-tf-saved-model"    # a Hugging Face TF SavedModel: serving_default on input_ids, attention_mask, ...
HF_CHECKPOINT = "hf-checkpoint"  # transformers' save_pretrained directory: config.json, safetensors, tokenizer
LITERT = "litert"          # a LiteRT (TFLite) flatbuffer, run by ai-edge-litert's interpreter

ENCODERS = (TF1_HUB, TF2_DICT, TF2_LIST)   # what the builder writes; HF_TF is read only

# What the builder records about each module it writes (source, activation form,
# control), beside the SavedModel where loaders ignore it; `inspect` shows it.
BUILD_RECORD = ("assets.extra", "tfhub_pooling.json")
