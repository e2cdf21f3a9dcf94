"""Any [init] table for any cell: a valid model or one ModelFileError line
naming init.NAME or cell, never another exception (issue 17's model files)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rnn_tui.core.model_file import ModelFileError, validate
from rnn_tui.core.model_init import GATE_NAMES, file_order
from rnn_tui.core.params import FILE_ORDER

NAMES = (*FILE_ORDER, *GATE_NAMES)
K, D, H = 4, 2, 3  # text "hello": vocab h e l o
SIZES = {"K": K, "D": D, "H": H}


def good(name: str) -> list:
    shape = [SIZES[d] for d in ({"E": "KD", "V": "KH", "c": "K", "U": "HD", "W": "HH",
                                 "b": "H"}[name.split("_")[0]])]
    return np.full(shape, 0.1).tolist()


values = st.one_of(
    st.sampled_from(["good"]),  # the right shape
    st.lists(st.lists(st.floats(-1, 1), min_size=1, max_size=4), min_size=1, max_size=4),
    st.lists(st.floats(allow_nan=True), max_size=4),
    st.integers(), st.text(max_size=3), st.booleans(),
)


@settings(deadline=None, database=None, max_examples=300,
          suppress_health_check=[HealthCheck.too_slow])
@given(cell=st.sampled_from(["rnn", "gru", "lstm"] * 6 + ["lstn", "GRU", "", 3]),
       init=st.dictionaries(st.sampled_from([*NAMES, "seed", "scale"]),
                            st.sampled_from(["good"] * 3 + ["bad"]).flatmap(
                                lambda v: st.just(v) if v == "good" else values), max_size=2),
       complete=st.booleans())
def test_any_init_is_a_model_or_one_line(cell: object, init: dict, complete: bool) -> None:
    if complete and cell in ("rnn", "gru", "lstm"):  # every parameter, some replaced
        init = {**{n: "good" for n in file_order(str(cell))}, **init}
    init = {n: good(n) if v == "good" and n in NAMES else (1 if v == "good" else v)
            for n, v in init.items()}
    doc = {"text": "hello", "embedding_dim": D, "hidden_size": H, "learning_rate": 0.1,
           "cell": cell, "init": init}
    try:
        spec = validate(doc, "m.toml")
    except ModelFileError as err:
        line = str(err)
        assert "\n" not in line and line.startswith("m.toml: ")
        assert err.field is not None and (err.field == "cell" or err.field.startswith("init"))
        event(f"refused at {err.field.split('.')[0]}")
        return
    event(f"a valid {cell} model")
    assert spec.cell == cell
    p = spec.initial_params() if cell == "rnn" else spec.initial_cell_params()
    names = FILE_ORDER if cell == "rnn" else file_order(str(cell))
    assert all(np.isfinite(p.get(n)).all() for n in names)
