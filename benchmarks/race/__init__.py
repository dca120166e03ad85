"""The pipelines users would pick instead of the study, as whole-process scripts that
`bench --race` times against `tfhub-pooling verify --texts-file` on the same texts.
Each script runs alone in its own interpreter and imports nothing of tfhub_pooling:
  official_pipeline.py  TF Hub's documented way: preprocessing model + encoder
  hf_pipeline.py        Hugging Face transformers in PyTorch (any Python that has them)
"""
