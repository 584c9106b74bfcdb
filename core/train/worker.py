"""The training process: `python -m bnner_tui.core.train.worker RUN_DIR [--resume]`.

Why a separate process: a run must outlive the terminal or TUI that started it, be cancellable
with a signal, and never freeze a UI. This module is that process's shell around
`pipeline.train_run`: it holds the run lock, logs everything (tracebacks included) to
`train.log`, turns SIGINT/SIGTERM into "save a checkpoint and stop", and ends every run with
exactly one terminal event: `finished`, `cancelled` or `failed` (with one sentence for the
user). Under torchrun only rank 0 writes events, metrics and the model.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError

log = logging.getLogger("bnner_tui.train")

EXIT_OK = 0
EXIT_FAILED = 1


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


class _ScrubbingFormatter(logging.Formatter):
    """train.log never holds a secret value: the whole formatted record (message, arguments and
    traceback alike) goes through core.secrets.scrub_text."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        from bnner_tui.core.secrets import secret_values

        self._secrets = secret_values()

    def format(self, record: logging.LogRecord) -> str:
        from bnner_tui.core.secrets import scrub_text

        return scrub_text(super().format(record), self._secrets)


class ScrubbedEvents:
    """The run's event writer with every field scrubbed of secret values (a failure reason or a
    log message can quote a token the user pasted somewhere)."""

    def __init__(self, writer: Any) -> None:
        from bnner_tui.core.secrets import secret_values

        self._writer = writer
        self._secrets = secret_values()

    def emit(self, type: str, **fields: Any) -> Any:
        from bnner_tui.core.secrets import scrub

        return self._writer.emit(type, **scrub(fields, self._secrets))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def setup_logging(log_path: Path, rank: int) -> logging.Handler:
    """Everything (ours, transformers', warnings) into train.log; rank > 0 only for errors."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    prefix = f"[rank {rank}] " if rank else ""
    handler.setFormatter(_ScrubbingFormatter(f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if rank == 0 else logging.WARNING)
    logging.captureWarnings(True)
    try:
        import transformers

        transformers.utils.logging.set_verbosity_info() if rank == 0 else None
        transformers.utils.logging.disable_default_handler()
        transformers.utils.logging.enable_propagation()
    except ImportError:  # pragma: no cover
        pass
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    return handler


def install_signal_handlers(cancel: Any) -> dict[int, Any]:
    """SIGINT/SIGTERM request a cancel; a second one is not special (the checkpoint is being written).

    Returns the previous handlers, restored when the worker returns (it may run inside a caller).
    """

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if not cancel.is_set():
            log.warning("%s received: saving a checkpoint after the current step, then stopping", name)
        cancel.set(name)

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


_DISK_FULL_MARKERS = ("No space left on device", "os error 28", "ENOSPC", "Disk quota exceeded")


def _chain(err: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = err
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def is_disk_full(err: BaseException) -> bool:
    """ENOSPC however it arrives: an OSError, safetensors' SafetensorError ("I/O error: No space
    left on device (os error 28)"), or torch's writer ("file write failed") on a full disk."""
    for e in _chain(err):
        if isinstance(e, OSError) and e.errno in (28, 122):  # ENOSPC, EDQUOT
            return True
        if any(m in str(e) for m in _DISK_FULL_MARKERS):
            return True
    return False


def disk_full_message(err: BaseException, run_dir: Path | None) -> str:
    """One sentence: what was being written, how much is free, and where a resume would start."""
    import shutil

    text = " ".join(f"{type(e).__name__} {e}" for e in _chain(err))
    what = "saving the model" if ("Safetensor" in text or "serializ" in text) else "writing the run"
    where = ""
    if run_dir is not None:
        try:
            free_mb = shutil.disk_usage(run_dir).free / 1e6
            where = f"; {free_mb:.0f} MB free in {run_dir}"
        except OSError:
            pass
        from bnner_tui.core.train.checkpoints import newest_complete_checkpoint

        last, _torn = newest_complete_checkpoint(run_dir / "checkpoints")  # the save that failed may be torn
        if last is not None:
            where += (
                f"; the last complete checkpoint is {last.name}"
                f" (free some space, then: bnner-tui train --resume {run_dir.name})"
            )
        else:
            where += "; there is no complete checkpoint yet"
    return f"The disk is full while {what}{where}."


def failure_reason(err: BaseException, cfg: Any, run_dir: Path | None = None) -> str:
    """One sentence for the user; the traceback goes to train.log."""
    try:
        import torch

        oom_types: tuple[type[BaseException], ...] = (torch.cuda.OutOfMemoryError,)
    except (ImportError, AttributeError):  # pragma: no cover
        oom_types = ()
    from bnner_tui.core.train.device import oom_message

    if (oom_types and isinstance(err, oom_types)) or "CUDA out of memory" in str(err):
        return oom_message(getattr(cfg, "batch_size", 0) if cfg is not None else 0)
    if isinstance(err, BnnerError):
        return str(err)
    if is_disk_full(err):
        return disk_full_message(err, run_dir)
    if isinstance(err, PermissionError):
        return f"Cannot write {err.filename}: permission denied."
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"Training failed with {type(err).__name__}{': ' + first if first else ''} (see train.log)."


def choose_resume_checkpoint(rd: Any) -> tuple[Path, list[Any], list[str]]:
    """The newest checkpoint whose every file loads; newer torn ones are moved aside.

    A torn folder is renamed `torn-checkpoint-N` (kept for a post-mortem, never deleted), so the
    Trainer neither counts it in its rotation nor writes the resumed run's step N into half-old
    files. Returns (checkpoint, skipped, one message per skip for the log and the event stream).
    """
    from bnner_tui.core.train.checkpoints import newest_complete_checkpoint, skipped_message

    chosen, skipped = newest_complete_checkpoint(rd.checkpoints_dir)
    messages: list[str] = []
    for skip in skipped:
        message = skipped_message(skip, chosen)
        aside = skip.path.with_name(f"torn-{skip.path.name}")
        if chosen is not None and not aside.exists():
            try:
                skip.path.rename(aside)
                message = message[:-1] + f" (the torn folder is kept as {aside.name})."
            except OSError:
                pass
        log.warning("%s", message)
        messages.append(message)
    if chosen is None:
        why = "; ".join(f"{s.path.name}: {s.reason}" for s in skipped)
        raise BnnerError(
            f"Run {rd.path} has no complete checkpoint to resume from{' (' + why + ')' if why else ''}:"
            " start it again instead."
        )
    return chosen, skipped, messages


def run_worker(run_dir: str | Path, *, resume: bool = False, cancel: Any = None, **overrides: Any) -> int:
    """The whole training process; returns the exit code. `overrides` go to `train_run` (tests)."""
    from bnner_tui.core.events import EventWriter
    from bnner_tui.core.runs import RunDir, acquire_lock
    from bnner_tui.core.train.callbacks import CancelFlag

    rd = RunDir(run_dir)
    rank = _rank()
    rd.path.mkdir(parents=True, exist_ok=True)
    handler = setup_logging(rd.log_path, rank)
    lock = None
    events = None
    cfg = None
    t0 = time.time()
    cancel = cancel or CancelFlag()
    # First thing: a Ctrl-C during start-up (imports, data loading) must still end as `cancelled`
    # with a checkpoint, not as a bare KeyboardInterrupt before any event exists.
    previous_handlers: dict[int, Any] = install_signal_handlers(cancel)
    root_level = logging.getLogger().level
    try:
        if rank == 0:
            lock = acquire_lock(rd)
            events = ScrubbedEvents(EventWriter(rd.events_path))
        from bnner_tui.core.config import TrainConfig

        cfg = TrainConfig.from_toml(rd.config_path)
        resume_from = None
        if resume:
            ckpt, skipped, skip_messages = choose_resume_checkpoint(rd)
            resume_from = ckpt
            from_step = int(ckpt.name.split("-")[-1])
            log.info("resuming from %s (step %d)", ckpt, from_step)
            if events is not None:
                events.emit(
                    "resumed",
                    from_step=from_step,
                    checkpoint=str(ckpt),
                    skipped=[{"checkpoint": str(s.path), "reason": s.reason} for s in skipped],
                )
                for message in skip_messages:  # after `resumed`, which stays the process's first event
                    events.emit("log", level="warning", message=message)

        from bnner_tui.core.train.pipeline import train_run

        result = train_run(
            cfg, rd.path, events=events, cancel=cancel, resume_from=resume_from, process_start=t0, **overrides
        )
        if result.status == "cancelled":
            log.info("cancelled at step %d, checkpoint %s", result.step, result.checkpoint)
            if events is not None:
                events.emit("cancelled", step=result.step, checkpoint=result.checkpoint)
            return EXIT_OK
        log.info("finished at step %d", result.step)
        if events is not None:
            events.emit(
                "finished",
                step=result.step,
                best_f1=result.best_f1,
                best_step=result.best_step,
                model_dir=result.model_dir,
                metrics_path=result.metrics_path,
                duration_s=round(time.time() - t0, 2),
                wandb_dir=(result.metrics or {}).get("wandb_dir"),
            )
        return EXIT_OK
    except BaseException as err:  # every failure must end as a `failed` event
        if isinstance(err, SystemExit) and not err.code:
            raise
        reason = failure_reason(err, cfg, rd.path)
        log.error("failed: %s\n%s", reason, traceback.format_exc())
        if events is not None:
            try:
                events.emit("failed", reason=reason, traceback_in="train.log")
            except (OSError, ValueError):
                pass
        if rank == 0:
            from bnner_tui.core.secrets import scrub_text

            print(scrub_text(reason), file=sys.stderr)
        return EXIT_FAILED
    finally:
        if events is not None:
            events.close()
        if lock is not None:
            lock.release()
        for sig, old in previous_handlers.items():
            signal.signal(sig, old)
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
        handler.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnner_tui.core.train.worker", description=__doc__)
    parser.add_argument("run_dir", help="the run folder holding config.toml")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    ns = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run_worker(ns.run_dir, resume=ns.resume)


if __name__ == "__main__":
    sys.exit(main())
