"""Stepping a GRU and an LSTM (core/cells/stepper.py): every value at every
step of three epochs against the autograd reference (helpers.reference_autograd),
the BPTT terms and factor chains against the recursion, stepping back bit-identical."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.stepper import Phase
from rnn_tui.core.train_options import TrainOptions

import helpers.reference_autograd as ref
from helpers.models import random_cell

CONFIGS = {
    "sgd": {},
    "adam_chunks": {"optimizer": "adam", "clip_norm": 1.0, "seq_length": 3},
    "momentum_clip": {"optimizer": "momentum", "momentum": 0.8, "clip_value": 0.3},
}
LR = 0.1


def close(ours, theirs, what: str, tol: float = 1e-9) -> None:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(ours - theirs).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def make(cell: str, config: dict, T: int = 5) -> tuple[CellStepper, list[dict]]:
    p, inputs, targets = random_cell(cell, 5, 3, 4, T, seed=7)
    options = TrainOptions(**config)
    st = CellStepper(p, inputs, targets, LR, options)
    constants = {k: config[k] for k in ("beta1", "beta2", "eps") if k in config}
    if "momentum" in config:
        constants["mu"] = config["momentum"]
    chunks = ref.cell_train_chunks(
        cell, {n: p[n].copy() for n in p.names}, list(map(int, inputs)), list(map(int, targets)),
        LR, config.get("seq_length") or T, 3, config.get("optimizer", "sgd"),
        config.get("clip_value"), config.get("clip_norm"), **constants)
    return st, chunks


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_every_step_of_three_epochs_matches_autograd(cell: str, config: str) -> None:
    st, chunks = make(cell, CONFIGS[config])
    per_epoch = st.layout.chunks
    names = st.layout.names
    fwd_ref: dict = {}
    grad_ref: dict = {}
    steps = 0
    while st.position.epoch <= 3:
        pos, v = st.position, st.view()
        r = chunks[(pos.epoch - 1) * per_epoch + pos.chunk]
        xs = [int(a) for a in v.epoch.fwd.inputs]
        ys = [int(a) for a in v.epoch.fwd.targets]
        what = f"{cell} epoch {pos.epoch} chunk {pos.chunk + 1} {v.label}"
        key = (pos.epoch, pos.chunk)
        if key not in fwd_ref:
            fwd_ref[key] = ref.cell_forward(cell, r["params"], xs, ys, r["h0"], r["C0"])
        f = fwd_ref[key]
        for n in names:  # the parameters at the chunk's start
            close(v.epoch.params[n], r["params"][n], f"{what} {n}")
        if pos.phase is Phase.FORWARD:
            t = pos.index + 1
            for g in v.gates(t):
                name = "h_tilde" if (cell, g.gate) == ("gru", "h") else g.gate
                close(g.value, f[name][t - 1], f"{what} gate {g.symbol}")
                act = 1 / (1 + np.exp(-g.pre)) if g.act == "σ" else np.tanh(g.pre)
                close(act, f[name][t - 1], f"{what} {g.symbol} from its parts")
            close(v.fwd.h[t], f["h"][t - 1], f"{what} h")
            if cell == "lstm":
                close(v.fwd.C[t], f["C"][t - 1], f"{what} C")
            close(v.fwd.omega[t - 1], f["omega"][t - 1], f"{what} Ω")
            close(v.fwd.y_hat[t - 1], f["y_hat"][t - 1], f"{what} ŷ")
            close(v.fwd.loss[t - 1], f["loss"][t - 1], f"{what} L")
            close(v.running_loss, f["loss"][:t].sum(), f"{what} running loss")
        elif pos.phase in (Phase.OUTPUT, Phase.BPTT):
            t = pos.index + 1 if pos.phase is Phase.OUTPUT else v.term[0]
            if (key, t) not in grad_ref:  # the losses L_1..L_t of the chunk
                grad_ref[(key, t)] = ref.cell_gradients(cell, r["params"], xs[:t], ys[:t],
                                                        r["h0"], r["C0"])
            g = grad_ref[(key, t)]
            if pos.phase is Phase.OUTPUT:
                dV, dc = v.output_sums
                close(dV, g["V"], f"{what} dV")
                close(dc, g["c"], f"{what} dc")
            elif v.term[1] == 1:  # row t complete: the gradient of L_1..L_t
                for n, a in v.bptt_sums.items():
                    close(a, g[n], f"{what} d{n}")
        else:
            i = pos.index
            p = v.params
            for m, n in enumerate(names):
                want = r["after"][n] if m <= i else r["params"][n]
                close(p[n], want, f"{what} {n} during the update")
            close(v.grad(names[i]), r["clipped"][names[i]], f"{what} clipped d{names[i]}")
            close(v.epoch.grads[names[i]], r["grads"][names[i]], f"{what} raw d{names[i]}")
            state = v.optimizer_state(names[i])
            if "n" in state:
                assert state["n"] == r["n"] == (pos.epoch - 1) * per_epoch + pos.chunk + 1
        st.next()
        steps += 1
    assert steps == 3 * st.layout.steps_per_epoch


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_terms_and_chains_sum_to_the_recursion(cell: str) -> None:
    """Σ_k term(t, k) over every row equals backward() to 1e-12, and the factor
    chain (Jacobians applied one by one) equals step_back's ∂L_t/∂s_k to 1e-12."""
    st, _ = make(cell, {}, T=7)
    ep = st.current
    total = {n: np.zeros_like(ep.params[n]) for n in ep.bptt_names}
    for t in range(1, ep.T + 1):
        row_total = {n: np.zeros_like(ep.params[n]) for n in ep.bptt_names}
        for k in range(t, 0, -1):
            for n, a in ep.term(t, k).items():
                row_total[n] = row_total[n] + a
        for n in total:
            close(row_total[n], ep.bptt_sums(t, 1)[n] - ep.row_start(t)[n], f"row {t} d{n}",
                  1e-12)
            total[n] = total[n] + row_total[n]
        st.goto(st.layout.at(1, st.layout.offset(Phase.BPTT) + t * (t - 1) // 2))
        v = st.view()
        chain = v.chain(t, 1)
        assert [c.j for c in chain] == list(range(t - 1, 0, -1))
        for c in chain:
            close(c.vector, v.ds(t, c.j), f"chain t={t} j={c.j}", 1e-12)
            S = ep.params.H * (2 if cell == "lstm" else 1)
            assert c.J.shape == (S, S)
    for n in total:
        close(total[n], ep.grads[n], f"Σ terms d{n}", 1e-12)


def _fingerprint(st: CellStepper) -> bytes:
    v = st.view()
    parts = [v.label.encode(), v.fwd.h.tobytes()]
    parts += [a.tobytes() for a in v.params.arrays.values()]
    if v.output_sums is not None:
        parts += [a.tobytes() for a in v.output_sums]
    if v.bptt_sums is not None:
        parts += [a.tobytes() for a in v.bptt_sums.values()]
    if v.phase is Phase.BPTT:
        parts += [c.vector.tobytes() for c in v.chain(*v.term)]
        parts += [a.tobytes() for a in v.term_sums.values()]
    if v.phase is Phase.FORWARD:
        parts += [g.pre.tobytes() for g in v.gates(v.pos.index + 1)]
    return b"|".join(parts)


@pytest.mark.parametrize("config", ["sgd", "adam_chunks"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_stepping_back_is_bit_identical(cell: str, config: str) -> None:
    st, _ = make(cell, CONFIGS[config])
    seen = []
    for _ in range(2 * st.layout.steps_per_epoch + 3):
        seen.append((st.position, _fingerprint(st)))
        st.next()
    for pos, fp in reversed(seen):
        st.prev()
        assert st.position == pos
        assert _fingerprint(st) == fp, f"{pos} differs when reached backwards"
    assert st.prev() == seen[0][0]  # the first step stays put
    st.goto_epoch(3)  # a jump, then back to epoch 1 from the checkpoints
    st.goto(seen[5][0])
    assert _fingerprint(st) == seen[5][1]


def test_layout_names_the_cell_updates() -> None:
    st, _ = make("lstm", {})
    assert st.layout.count(Phase.UPDATE) == len(st.layout.names) == 15
    st.end_of_epoch()
    assert st.view().label == "update E (15/15)"
    st.next()
    assert st.position.epoch == 2 and st.position.phase is Phase.FORWARD


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_handout_dE_convention_and_switching_to_it(cell: str) -> None:
    """mode "x_t": every row's dE goes into the row of x°_t (autograd's per-loss
    assembly); set_mode keeps the position and the numbers follow the mode."""
    p, inputs, targets = random_cell(cell, 5, 3, 4, 5, seed=9)
    st = CellStepper(p, inputs, targets, LR)
    st.goto(st.layout.at(1, st.layout.offset(Phase.BPTT) + 9))  # (t=4, k=1)
    before = st.view().bptt_sums["E"]
    st.set_mode("x_t")
    assert st.position.index == 9 and st.mode == "x_t"
    xs, ys = list(map(int, inputs)), list(map(int, targets))
    want = ref.cell_gradients(cell, {n: p[n].copy() for n in p.names}, xs[:4], ys[:4],
                              embedding_rows="x_t")
    close(st.view().bptt_sums["E"], want["E"], "dE (x_t) after row 4")
    assert not np.allclose(st.view().bptt_sums["E"], before)
    st.end_of_epoch()
    full = ref.cell_gradients(cell, {n: p[n].copy() for n in p.names}, xs, ys,
                              embedding_rows="x_t")
    close(st.view().grad("E"), full["E"], "dE (x_t) of the epoch")
