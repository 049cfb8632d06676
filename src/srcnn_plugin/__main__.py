"""``python -m srcnn_plugin``: the ``srcnn-plugin`` command without its script."""

import sys

from .cli import main

sys.exit(main())
