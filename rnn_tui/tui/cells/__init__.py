"""The debugger for GRU and LSTM models (issue 17): app.py (the app, its keys
from tui/keys.py), step.py (the step's formulas and factor chain), panels.py
(status, BPTT triangle ‖∂L_t/∂s_k‖, states, gradient sums)."""
