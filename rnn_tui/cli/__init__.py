"""The ``rnn-tui`` command: the debugger, and headless commands for scripts.

Every failure a user can cause ends in one line on stderr and exit status 2;
tracebacks are for bugs only. Textual is imported only when the debugger
opens, so the headless commands start fast and work without a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from rnn_tui.cli import streams
from rnn_tui.cli.args import (
    EXIT_USAGE,
    PROG,
    Parser,
    UsageError,
    epoch_list,
    handout_training_only,
    int_in,
    mode_args,
    model_and_epochs,
    positive_float,
    user_errors,
    write_output,
)

if TYPE_CHECKING:
    from rnn_tui.core.model_file import ModelSpec
# NumPy, pydantic and the model classes load when a command needs a model.

# Commands that live in modules of their own (rnn_tui/cli/NAME.py, or a serve
# module), imported only when used. Each
# module has HELP (one line), DESCRIPTION (its --help paragraph; HELP if absent),
# add_arguments(parser) and run(args) -> int.
PLUGIN_COMMANDS = {
    "compare": "rnn_tui.cli.compare",
    "grade": "rnn_tui.cli.grade",
    "serve": "rnn_tui.serve.web",
    "ssh-serve": "rnn_tui.serve.ssh",
    "sample": "rnn_tui.cli.sample",
    "import-torch": "rnn_tui.cli.import_torch",
    "export-torch": "rnn_tui.cli.export_torch",
    "compare-cells": "rnn_tui.cli.compare_cells",
}
# The extra that installs a plugin's optional packages: pip install 'rnn-tui[EXTRA]'.
PLUGIN_EXTRAS = {"serve": "web", "ssh-serve": "ssh"}
COMMANDS = ("trace", "train", "check", "new", "gradcheck", "export", "follow",
            *PLUGIN_COMMANDS)
MAX_TRACE_EPOCHS = 100_000
MAX_TRAIN_EPOCHS = 10_000_000


def build_parser() -> Parser:
    top = Parser(
        prog=PROG,
        description="Step through a character-level RNN's training, one handout step per key.",
        epilog=(
            f"commands: {', '.join(COMMANDS)} (each has --help). "
            "MODEL is a built-in name (hello, hello-handout) or a .toml file."
        ),
    )
    top.add_argument("model", nargs="?", default="hello", metavar="MODEL",
                     help="model to open in the debugger (default: hello)")
    mode_args(top)
    top.add_argument("--theme", choices=("dark", "light", "projector", "mono"), default=None,
                     help="colours (default: dark; mono when NO_COLOR is set or TERM has 8 "
                     "colours); the t key cycles them")
    top.add_argument("--present", action="store_true",
                     help="lecture: presenter layout (the z key toggles it), and publish the "
                     "position to the room so that `rnn-tui follow` can track it")
    top.add_argument("--quiz", action="store_true",
                     help="quiz mode: predict each value before it is revealed (k toggles)")
    top.add_argument("--run-limit", type=int_in(1, 10_000_000), default=None, metavar="N",
                     help="epochs that c, l and f search before giving up (default 100000, "
                     "or run_limit in the keys file: see README)")
    top.add_argument("--room", type=Path, default=None,
                     help="room directory for --present (default: $RNN_TUI_ROOM or "
                     "/tmp/rnn-tui-room-$USER); it must be yours and writable only by you")
    top.add_argument("--compare", type=Path, default=None, metavar="THEIRS.json",
                     help="mark every value where your own implementation's trace (the JSON "
                     "of `rnn-tui trace --format json`) differs; j jumps to the next one")
    top.add_argument("--tol", type=positive_float, default=None,
                     help="--compare's tolerance: |ours - theirs| <= tol * max(1, |ours|) "
                     "(default 1e-6)")
    return top


def import_plugin(command: str) -> ModuleType:
    """A plugin command's module; a missing optional package is one line."""
    try:
        return importlib.import_module(PLUGIN_COMMANDS[command])
    except ImportError as err:
        package = (err.name or "").split(".")[0]
        if not package or package == "rnn_tui" or command not in PLUGIN_EXTRAS:
            raise
        raise UsageError(f"{command} needs the {package.replace('_', '-')} package: "
                         f"pip install 'rnn-tui[{PLUGIN_EXTRAS[command]}]'") from None


def build_command_parser(command: str | None = None) -> Parser:
    root = Parser(prog=PROG)
    sub = root.add_subparsers(dest="command", parser_class=Parser, required=True)
    if command in PLUGIN_COMMANDS:
        module = import_plugin(command)
        plugin = sub.add_parser(command, help=module.HELP,
                                description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(plugin)
        plugin.set_defaults(handler=module.run)
        return root

    from rnn_tui.core.model_file import MAX_DIM
    from rnn_tui.core.train_options import MAX_SEQ_LENGTH, OPTIMIZERS

    trace = sub.add_parser("trace", help="print every step of N epochs",
                           description="Run N epochs and print every forward step, the "
                           "gradients and the parameters. JSON writes NaN/inf as the strings "
                           '"NaN", "Infinity", "-Infinity".')
    model_and_epochs(trace, 1, MAX_TRACE_EPOCHS, 1)
    trace.add_argument("--format", choices=("json", "text"), default="json")
    trace.add_argument("--terms", action="store_true",
                       help="JSON: add every output term and BPTT term (t, k) with what it adds "
                       "to dV, dc, dW, dU, db, dE (what `rnn-tui compare` checks one by one)")
    mode_args(trace)

    train = sub.add_parser("train", help="train and print a loss table",
                           description="Train for N epochs and print the total loss and the "
                           "minimum total loss so far at chosen epochs.")
    model_and_epochs(train, 1, MAX_TRAIN_EPOCHS, 100)
    train.add_argument("--report", type=epoch_list, default=None, metavar="E1,E2,...",
                       help="epochs to show (default: 1,2,10,50,100,... and N)")
    train.add_argument("--sample", type=int_in(1, MAX_TRAIN_EPOCHS), default=None, metavar="N",
                       help="every N epochs, print a greedy sample of the model (as min-char-rnn "
                       "does): SAMPLE_LENGTH characters after the text's first character")
    train.add_argument("--sample-length", type=int_in(1, 10_000), default=None, metavar="L",
                       help="characters per sample (default: T, at most 200)")
    mode_args(train)

    check = sub.add_parser("check", help="validate a model file and summarise it",
                           description="Validate a model file and summarise it.")
    check.add_argument("model", metavar="MODEL")

    new = sub.add_parser("new", help="write a new model file with seeded initial values",
                         description="Write a complete model file with explicit initial "
                         "values drawn from a seed. Never overwrites without --force.")
    new.add_argument("--text", required=True, help="training text (at least 2 characters)")
    new.add_argument("--hidden", type=int_in(1, MAX_DIM), default=3, help="H (default 3)")
    new.add_argument("--embed", type=int_in(1, MAX_DIM), default=2, help="D (default 2)")
    new.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0)
    new.add_argument("--scale", type=positive_float, default=None,
                     help="standard deviation of the draw (default 0.5 for E, "
                     "0.5/sqrt(fan-in) for U, W, V)")
    new.add_argument("--lr", type=positive_float, default=None,
                     help="learning rate (default: min(0.1, 1/T), T = len(text) - 1: the total "
                          "loss sums T steps, so its gradient grows with T)")
    new.add_argument("--vocab", default=None, help="vocabulary order (default: by appearance)")
    new.add_argument("--cell", choices=("rnn", "gru", "lstm"), default="rnn",
                     help="the recurrent cell: the handout's RNN (default), a GRU or an LSTM "
                     "(docs/cells.md)")
    new.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                     help="write a [train] table with this optimizer (default: sgd)")
    clipping = new.add_mutually_exclusive_group()
    clipping.add_argument("--clip-value", type=positive_float, default=None, metavar="C",
                          help="clip each gradient entry to [-C, C] before the update")
    clipping.add_argument("--clip-norm", type=positive_float, default=None, metavar="C",
                          help="scale all the gradients (six for the RNN) to a norm of at most C")
    new.add_argument("--seq-length", type=int_in(1, MAX_SEQ_LENGTH), default=None, metavar="N",
                     help="truncated BPTT: one update per N steps, h carried across")
    new.add_argument("--name", default=None, help="model name (default: the file's stem)")
    new.add_argument("-o", "--output", type=Path, default=None,
                     help="file to write (default: standard output)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    grad = sub.add_parser("gradcheck", help="compare gradients with finite differences",
                          description="Compare the gradients at an epoch with central finite "
                          "differences; print the largest relative error per parameter. Exit 1 "
                          "if any differs by more than 1e-5. With [train] seq_length: the raw "
                          "gradient (before clipping) of the epoch's first chunk.")
    grad.add_argument("model", metavar="MODEL")
    grad.add_argument("--epoch", type=int_in(1, MAX_TRAIN_EPOCHS), default=1,
                      help="check the parameters at the start of this epoch (default 1)")
    grad.add_argument("--max-entries", type=int_in(1, 10**6), default=64,
                      help="entries sampled per parameter (default 64)")
    mode_args(grad)

    export = sub.add_parser("export", help="write a worked example like the handout",
                            description="Write a worked example in the handout's structure "
                            "(preprocess, forward pass step by step, BPTT, updates, later "
                            "epochs' losses) with this engine's numbers. Never overwrites a "
                            "file without --force.")
    model_and_epochs(export, 2, MAX_TRACE_EPOCHS, 100,
                     "epochs to run for the minimum total loss (default 100)")
    export.add_argument("--format", choices=("markdown", "latex", "ipynb"), default="markdown")
    export.add_argument("-o", "--output", type=Path, default=None,
                        help="file to write (default: standard output)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    mode_args(export)

    follow = sub.add_parser("follow", help="follow a lecturer's rnn-tui --present",
                            description="Open the debugger and track the position of a "
                            "lecturer who runs rnn-tui --present on this machine. Any stepping "
                            "key breaks away to explore; s follows again.")
    follow.add_argument("--room", type=Path, default=None,
                        help="the lecturer's room directory (default: $RNN_TUI_ROOM, or "
                        "/tmp/rnn-tui-room-USER for --owner USER, else your own room)")
    follow.add_argument("--owner", default=None, metavar="USER",
                        help="the lecturer's user name: trust a state file owned by USER, and "
                        "find the room /tmp/rnn-tui-room-USER")
    follow.add_argument("--theme", choices=("dark", "light", "projector", "mono"), default=None)
    return root


# ------------------------------------------------------------- commands


def _load(model: str, mode: str | None = None) -> tuple[ModelSpec, str]:
    from rnn_tui.core.model_file import load

    spec, _ = load(model)
    return spec, mode or spec.bptt.embedding_rows


def cmd_trace(args: argparse.Namespace) -> int:
    from rnn_tui.core import report

    spec, mode = _load(args.model, args.mode)
    if args.terms and args.format != "json":
        raise UsageError(f"{PROG} trace: --terms needs --format json")
    chunks = (report.trace_json_chunks(spec, args.epochs, mode, args.terms)
              if args.format == "json" else report.trace_text_chunks(spec, args.epochs, mode))
    report.write_chunks(chunks, sys.stdout)  # one epoch at a time: memory stays flat
    return 0


def default_lr(T: int) -> float:
    """The learning rate `new` writes: 0.1 (the handout's) up to T = 10, then
    1/T to 2 significant digits. The total loss is a sum over T steps, so
    its gradient grows with T: at 0.1 a 276-character text with 32 hidden
    units diverged; at 1/T it trains (tests/cli: 50 epochs lower the loss)."""
    return 0.1 if T <= 10 else float(f"{1.0 / max(T, 1):.2g}")


def cmd_new(args: argparse.Namespace) -> int:
    from rnn_tui.core.model_file import seeded_params, validate
    from rnn_tui.core.model_writer import model_toml
    from rnn_tui.core.params import FILE_ORDER

    name = args.name or ((args.output.stem[:64] or "model") if args.output else "model")
    doc = {
        "name": name,
        "text": args.text,
        **({"vocab": args.vocab} if args.vocab is not None else {}),
        "embedding_dim": args.embed,
        "hidden_size": args.hidden,
        **({"cell": args.cell} if args.cell != "rnn" else {}),
        "learning_rate": args.lr if args.lr is not None else default_lr(len(args.text) - 1),
        "init": {"seed": args.seed, **({"scale": args.scale} if args.scale else {})},
    }
    train = {key: value for key, value in (
        ("optimizer", args.optimizer), ("clip_value", args.clip_value),
        ("clip_norm", args.clip_norm), ("seq_length", args.seq_length)) if value is not None}
    if train:
        doc["train"] = train
    spec = validate(doc, "new model")
    origin = None
    if not args.scale and spec.cell != "rnn":
        from rnn_tui.core.model_init import fan_in_cell_params, file_order

        q = fan_in_cell_params(spec.cell, spec.K, args.embed, args.hidden, args.seed)
        doc["init"] = {n: q[n].tolist() for n in file_order(spec.cell)}
        spec = validate(doc, "new model")
        origin = (f"# initial values drawn with seed {args.seed}, scale 0.5 for E, "
                  "0.5/sqrt(D) for each U_g, 0.5/sqrt(H) for each W_g and V")
    elif not args.scale:  # scale 0.5 over sqrt(fan-in): large models start stable
        p = seeded_params(spec.K, args.embed, args.hidden, args.seed, fan_in=True)
        doc["init"] = {n: p.get(n).tolist() for n in FILE_ORDER}
        spec = validate(doc, "new model")
        origin = (f"# initial values drawn with seed {args.seed}, scale 0.5 for E, "
                  "0.5/sqrt(D) for U, 0.5/sqrt(H) for W and V")
    return write_output(model_toml(spec, origin), args.output, args.force,
                        f" (K={spec.K}, D={spec.embedding_dim}, H={spec.hidden_size}, T={spec.T})")


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from rnn_tui.core import gradcheck
    from rnn_tui.core.stepper import Stepper
    from rnn_tui.core.text import printable

    spec, mode = _load(args.model, args.mode)
    if spec.cell != "rnn":
        from rnn_tui.cli.cell_commands import gradcheck_cell

        return gradcheck_cell(spec, args, mode)
    stepper = Stepper(spec, mode)  # type: ignore[arg-type]
    # With seq_length: the epoch's first chunk (its raw gradient, before clipping).
    first = stepper.epoch(args.epoch).chunk(0)
    results = gradcheck.check(first.params, first.fwd.inputs, first.fwd.targets,
                              mode, max_entries=args.max_entries, h0=first.h0)  # type: ignore[arg-type]
    where = ""
    if spec.train.seq_length is not None:
        where = f", chunk 1 of {stepper.layout.chunks} (steps 1..{first.fwd.T})"
    print(f"{printable(spec.name)}: epoch {args.epoch}{where}, dE rows {mode}, eps 1e-5")
    print("\n".join(gradcheck.report(results, mode, spec.alphabet)))  # type: ignore[arg-type]
    return 0 if all(r.ok for r in results) else 1


def cmd_export(args: argparse.Namespace) -> int:
    from rnn_tui.core import export

    spec, mode = _load(args.model, args.mode)
    handout_training_only(spec, "export")
    minima = sorted({n for n in (50, 100, args.epochs) if n <= args.epochs})
    if args.format == "ipynb":
        from rnn_tui.cli.interop import export_notebook

        return export_notebook(args, spec, mode, minima)
    if spec.cell != "rnn":
        from rnn_tui.core import cell_export

        text = cell_export.worked_example(spec, epochs=2, mode=mode, minima=minima)
    else:
        text = export.worked_example(spec, epochs=2, mode=mode, minima=minima)
    if args.format == "latex":
        text = export.to_latex(text)
    return write_output(text, args.output, args.force)


def cmd_tui(args: argparse.Namespace) -> int:
    spec, mode = _load(args.model, args.mode)
    if spec.cell != "rnn":  # the GRU/LSTM debugger
        return importlib.import_module("rnn_tui.cli.cell_tui").run_cell_tui(args, spec, mode)
    trace = None
    if args.compare is not None:  # read before the app opens: a bad file is one line
        handout_training_only(spec, "--compare")
        from rnn_tui.core.theirs import InputError
        from rnn_tui.tui.comparison import Trace

        try:
            trace = Trace.open(spec, args.compare, args.tol or 1e-6, mode)  # type: ignore[arg-type]
        except InputError as err:
            raise UsageError(str(err)) from None
    elif args.tol is not None:
        raise UsageError(f"--tol needs --compare (see {PROG} --help)")
    streams.for_terminal()
    presenter = None
    if args.present:
        from rnn_tui.core.follow import FollowError, Presenter, default_room
        from rnn_tui.core.model_file import load

        _, path = load(args.model)
        try:
            presenter = Presenter(args.room or default_room(), path)
        except FollowError as err:
            raise UsageError(str(err)) from None
    elif args.room is not None:
        raise UsageError(f"{PROG}: --room needs --present (see {PROG} --help)")
    from rnn_tui.tui.app import run_app
    from rnn_tui.tui.user_config import UserConfigError, load_user_config

    try:
        config = load_user_config()
    except UserConfigError as err:
        raise UsageError(str(err)) from None
    if args.run_limit is not None:
        config = config.model_copy(update={"run_limit": args.run_limit})
    return run_app(spec, mode, theme=args.theme, present=args.present, presenter=presenter,
                   quiz=args.quiz, compare=trace, config=config)


def cmd_follow(args: argparse.Namespace) -> int:
    from rnn_tui.core.follow import default_room
    from rnn_tui.core.model_file import load
    from rnn_tui.tui.app import run_app

    streams.for_terminal()
    if args.owner is not None:
        import pwd

        try:
            pwd.getpwnam(args.owner)
        except KeyError:
            raise UsageError(f"--owner: no user named {args.owner!r} on this machine") from None
    room = args.room or default_room(args.owner)
    spec, _ = load("hello")  # shown until the lecturer's model is read from the room
    return run_app(spec, theme=args.theme, follow_room=room, follow_owner=args.owner)


HANDLERS = {"trace": cmd_trace, "new": cmd_new, "gradcheck": cmd_gradcheck,
            "export": cmd_export, "follow": cmd_follow}  # and cli/training.py: train, check


def main(argv: Sequence[str] | None = None) -> int:
    streams.guard()
    try:
        try:
            code = _main(argv)
        except SystemExit as done:  # --help ends through argparse's exit
            code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        except streams.OutputError as err:
            streams.silence()
            return 0 if err.broken_pipe else _fail(str(err))
        failed = streams.finish()
        if failed is not None and not failed.broken_pipe:
            return _fail(str(failed))
        return code
    finally:
        streams.restore()


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _main(argv: Sequence[str] | None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_in and args_in[0] in COMMANDS:
            args = build_command_parser(args_in[0]).parse_args(args_in)
            handler = getattr(args, "handler", None) or HANDLERS.get(args.command)
            if handler is None:  # train, check
                handler = getattr(importlib.import_module("rnn_tui.cli.training"),
                                  f"cmd_{args.command}")
            return handler(args)
        args = build_parser().parse_args(args_in)
        return cmd_tui(args)
    except user_errors() as err:
        from rnn_tui.core.text import printable

        return _fail(printable(str(err)))
    except BrokenPipeError:
        streams.silence()
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
