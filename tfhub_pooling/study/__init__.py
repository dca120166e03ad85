"""The study, stage by stage: handle -> loaded module -> encoder inputs ->
outputs -> pooler weights -> comparison.

  handles.py            a handle (URL, directory, archive) -> a local directory, via tensorflow_hub
  saved_model_proto.py  what saved_model.pb records: graph variants, signatures, asset files
  loading.py            a directory -> a loaded module with one `run`, its format detected
  keras_hub_loading.py  a KerasHub preset directory -> the same, through keras_hub
  texts.py              what a text is (one segment or a pair), and the API's checks of texts
  text_sources.py       texts: files, standard input, generated sentences
  encoder_inputs.py     texts -> input_ids, input_mask, segment_ids (tensorflow_text, or a
                        preprocessing model)
  forward.py            encoder inputs -> pooled_output, sequence_output, checked
  stored_variables.py   what a module stores, by name: variables or checkpoint entries
  naming.py             the one table of how exporters name the pooler
  stored_pooler.py      the pooler's kernel and bias among what is stored
  corpus.py             the study streamed over a texts file
  pipeline.py           the steps in order: verify, verify_corpus, verify_many

Rule: the study uses nothing of the builder but its cache (builder/cache.py),
which builds the embedded default and checkpoint directories into modules.
"""
