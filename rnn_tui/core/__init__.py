"""What runs without a terminal: the maths, model files, the stepper, traces,
exports and explanations. Nothing here imports Textual or Rich
(tests/core/test_layers.py proves it)."""
