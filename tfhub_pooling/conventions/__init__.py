"""What every BERT-family module shares, whoever writes or reads it: the one table
of how exporters name the pooler (naming.py), vocab files and sentences of their
words (vocabs.py), BERT's packing of word pieces (packing.py), and the files of a
google-research checkpoint (checkpoints.py).

Rule: the builder and the study both import these, and these import neither, so
a writer and the reader of what it writes hold one definition.
"""
