"""The training engine: the training process (`worker` → `pipeline.train_run`, whose steps live in
`prepare`, `arguments`, `callbacks`, `device`, `evaluate`, `outputs`, with `models` and `tracking`)
and its control from outside (`launch`: start, cancel, resume).

Kept empty of imports on purpose: the CLI and TUI import `bnner_tui.core.train.launch` at start-up,
and importing this package must not pull in torch or transformers.
"""
