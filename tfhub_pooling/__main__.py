import sys

from tfhub_pooling.cli import main

sys.exit(main())
