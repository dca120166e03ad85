"""The study, stage by stage: handle -> loaded module -> encoder inputs ->
outputs -> pooler weights -> comparison.

  handles.py            a handle (URL, directory, archive, hf://) -> a local directory, via
                        tensorflow_hub (huggingface_hub for hf://)
  archives.py           a module archive, local or streaming, unpacked with each member checked first
  saved_model_proto.py  what saved_model.pb records: graph variants, signatures, asset files
  detect.py             what a resolved directory holds, said once
  modules.py            the one module boundary: each kind's loader -> one LoadedModule
  loading.py            a SavedModel -> a loaded module with one `run`, its interface detected
  keras_hub_loading.py  a KerasHub preset directory -> the same, through keras_hub
  hf_checkpoint.py      a Hugging Face checkpoint (save_pretrained's safetensors) -> the same,
                        through keras_hub's converter, run as its config.json says
  texts.py              what a text is (one segment or a pair), and the API's checks of texts
  options.py            how a study runs (texts or a file, lengths, inputs, checks): one Options,
                        checked where it is made
  text_sources.py       texts: files, standard input, generated sentences
  encoder_inputs.py     texts -> input_ids, input_mask, segment_ids (tensorflow_text, or a
                        preprocessing model)
  input_source.py       what makes a module's inputs (its tokenizer, a named vocab, a preprocessing
                        model), and the batches and generated texts run through it
  forward.py            encoder inputs -> pooled_output, sequence_output, checked
  stored_variables.py   what a module stores, by name: variables or checkpoint entries
  stored_pooler.py      the pooler's kernel and bias among what is stored
  batches.py            the one batch loop: run, hold to the pooler's width, compare each batch
  corpus.py             the study streamed over a texts file: the loop's comparisons folded
  lengths.py            the sequence lengths a module takes
  pipeline.py           the steps in order on a loaded module and its Options: verify (the loop's
                        comparisons merged), verify_corpus
  results.py            what a study concludes: verify's result, corpus mode's, a many-module run's
  parting.py            two studied models side by side: where their pooled outputs part

Rule: the study builds nothing: it imports nothing of the builder or of
provision.py, lazily or not, directly or through another module. What the builder
and the study both need (pooler names, vocabs, packing, checkpoint files) is in
tfhub_pooling/conventions/.
"""
