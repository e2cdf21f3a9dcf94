"""``python -m rnn_tui`` is the ``rnn-tui`` command."""

import sys

from rnn_tui.cli import main

sys.exit(main())
