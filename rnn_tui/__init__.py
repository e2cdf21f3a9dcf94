"""rnn-tui: a terminal step-through debugger for a character-level RNN.

The core (``maths``, ``model_file``, ``stepper``, ``report``, ``cli``) never
imports Textual; only ``app`` and its widgets do.
"""

__version__ = "0.1.0"
