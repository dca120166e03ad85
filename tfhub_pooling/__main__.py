from tfhub_pooling.cli import run

run()
