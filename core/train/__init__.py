"""The training engine: the training process (`worker`, `pipeline`, `models`, `tracking`, `evaluate`)
and its control from outside (`launch`: start, cancel, resume).

Kept empty of imports on purpose: the CLI and TUI import `bnner_tui.core.train.launch` at start-up,
and importing this package must not pull in torch or transformers.
"""
