"""Makes modules from real weights: the one BERT (bert.py) and its config
(bert_config.py), weight sources (sources.py), one writer per format
(tf1_hub_writer.py, tf2_writer.py, preprocess_writer.py, checkpoint_writer.py),
negative controls (controls.py), the atomic build (build.py) and the cache of
modules the study builds for itself (cache.py).

Rule: the builder may use the study's pieces (naming, packing); the study uses
only cache.py of the builder.
"""
