"""Makes modules from real weights: the one BERT (bert.py) and its config
(bert_config.py), weight sources (sources.py), one writer per format
(tf1_hub_writer.py, tf2_writer.py, preprocess_writer.py, checkpoint_writer.py),
negative controls (controls.py) and the atomic build (build.py).

Rule: the builder and the study share only tfhub_pooling/conventions/ (pooler
names, vocabs, packing, checkpoint files); neither imports the other.
"""
