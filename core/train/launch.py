"""Starting, cancelling and resuming the training process from the outside (CLI, TUI, Python).

Why a separate process, started in its own session: a run must outlive whatever launched it
(closing the TUI, a dropped SSH session, Ctrl-C in the wrong terminal) and be attachable again
later through its `events.jsonl`. So `launch()` never trains in-process: it validates, checks
what can be checked in a second (`preflight`), creates the run folder, takes the run lock,
hands the locked descriptor to the child and lets go of its own copy. From then on the child
alone holds the lock, and the kernel drops it when the child dies, however it dies.

More than one process goes through torchrun (`torch.distributed.run`): no home-made launcher.
The lock and the cancel signal then go to torchrun's agent, which forwards the signal to every
worker; the workers agree on the stop step among themselves (see `pipeline.CancelCallback`).

Standard library only at module level: the TUI imports this at start-up.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bnner_tui.core.config import AUTO_MODEL, OFFLINE_MODEL, TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.runs import (
    LOCK_FD_ENV,
    RunDir,
    RunLock,
    RunNotFoundError,
    as_run,
    create_run_locked,
    latest_checkpoint,
    lock_is_held,
    read_lock_pid,
    run_status,
)

WORKER_MODULE = "bnner_tui.core.train.worker"
DATA_KEYWORDS = ("demo", "wikiann")

_DISK_MARGIN = 64 * 2**20
# How long torchrun's agent waits for workers to save a checkpoint after a cancel (its default, 30 s,
# is too short for a large model's checkpoint on a slow disk).
TORCHRUN_SHUTDOWN_TIMEOUT_S = 300


class NotRunningError(BnnerError):
    """A cancel for a run that has no live training process."""


# ---- preflight ---------------------------------------------------------------------------------


def preflight(config: TrainConfig, *, resume: bool = False) -> None:
    """The checks that take a second and would otherwise fail minutes into a run; one sentence each.

    Config values, the output folder (creatable, writable, enough free disk for checkpoints), a
    model or tokenizer path that does not exist, a data path that does not exist, W&B online
    tracking without a login (it would otherwise prompt or fail inside the run). Dataset-level
    checks (no training split, labels the model does not know) need the data loaded: the worker
    does them first thing, before training.
    """
    config.validate()
    problems: list[str] = []
    if config.model not in (AUTO_MODEL, OFFLINE_MODEL):
        problem = _model_problem(config.model)
        if problem:
            problems.append(problem)
    if config.tokenizer is not None:
        tok = Path(config.tokenizer).expanduser()
        if _looks_like_path(config.tokenizer) and not tok.exists():
            problems.append(f"Tokenizer folder {config.tokenizer} does not exist.")
        elif tok.is_dir() and not any((tok / n).is_file() for n in ("tokenizer.json", "vocab.txt")):
            problems.append(f"Tokenizer folder {config.tokenizer} has neither tokenizer.json nor vocab.txt.")
    if config.data not in DATA_KEYWORDS and not config.data.startswith("hub:"):
        if not Path(config.data).expanduser().exists():
            problems.append(
                f"Data source {config.data} does not exist: use demo, wikiann, hub:ID[:CONFIG] or a file/folder path."
            )
    if config.tracking == "wandb":
        from bnner_tui.core.train.tracking import wandb_logged_in

        if not wandb_logged_in():
            problems.append(
                "W&B tracking is on but you are not logged in: run `wandb login` or set WANDB_API_KEY,"
                " or use --tracking wandb-offline."
            )
    if problems:
        raise BnnerError(" ".join(problems))
    if not resume:
        check_output_root(config)


def _looks_like_path(value: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else with a slash, or starting like a path, is a path."""
    return value.startswith((".", "/", "~")) or value.count("/") > 1


def _model_problem(model: str) -> str | None:
    """A local model folder must exist and hold a saved model; hub ids are resolved by the worker."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            return f"Model folder {model} has no config.json: point --model at a saved model folder."
        return None
    if _looks_like_path(model):
        return f"Model path {model} does not exist."
    # A hub id: settle now whether it can be had (cache, or a hub answering within seconds),
    # before a run folder exists, instead of in the worker a dozen seconds later.
    from bnner_tui.core.train.models import hub_model_cached, hub_reachable

    if hub_model_cached(model):
        return None
    ok, why = hub_reachable(3.0)
    if not ok:
        return f"Model {model} is not in the local cache and {why}: connect, or use --model offline or a local folder."
    return None


def estimated_run_bytes(config: TrainConfig) -> int:
    """What a run will write at least: final model + (save_total_limit + 1) checkpoints.

    A checkpoint is the fp32 weights plus AdamW's two moment buffers (3x the weights); the Trainer
    writes a new checkpoint before deleting the oldest, hence the +1. Only sizes known here count,
    so a refusal is never a guess: `offline` (and `auto`, whose smallest outcome is the offline
    model) from its dimensions, a local model folder from its weight files; a hub model's size is
    unknown before download, so only the margin is required for it.
    """
    params = 0
    if config.model in (OFFLINE_MODEL, AUTO_MODEL):
        params = _offline_params(config)
    else:
        path = Path(config.model).expanduser()
        if path.is_dir():
            weights = sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
            params = weights // 4
    weights_bytes = params * 4
    return weights_bytes * (1 + 3 * (config.save_total_limit + 1)) + _DISK_MARGIN


def _offline_params(config: TrainConfig) -> int:
    h, layers, v = config.offline_hidden_size, config.offline_layers, config.offline_vocab_size
    if getattr(config, "offline_arch", "bert") == "charword":  # 3 hashed tables of 64 + a BiLSTM over 192 inputs
        return 3 * v * 64 + layers * 8 * (h // 2) * (192 + h) + 50_000
    embeddings = (v + config.max_length + 2) * h
    per_layer = 12 * h * h + 13 * h  # attention (4 h^2) + feed-forward (8 h^2, intermediate 4h) + biases/norms
    return embeddings + layers * per_layer + 16 * h


def check_output_root(config: TrainConfig) -> Path:
    """The output root can be created and written, and has room for the run; one sentence otherwise."""
    root = Path(config.output_root).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BnnerError(f"Cannot create the output folder {root}: {err.strerror or err}.") from None
    if not root.is_dir():
        raise BnnerError(f"The output root {root} is not a folder.")
    probe = root / f".bnner-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise BnnerError(f"The output folder {root} is not writable: {err.strerror or err}.") from None
    need = estimated_run_bytes(config)
    free = shutil.disk_usage(root).free
    if free < need:
        raise BnnerError(
            f"Not enough free disk space in {root}: the run needs about {_gb(need)} for the model and"
            f" {config.save_total_limit + 1} checkpoints, and {_gb(free)} is free"
            " (free some space, lower save_total_limit, or choose another --output-root)."
        )
    return root


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


# ---- launching ---------------------------------------------------------------------------------


def worker_command(run: RunDir, *, nproc: int = 1, resume: bool = False) -> list[str]:
    """The command line of the training process (torchrun for nproc > 1)."""
    tail = [str(run.path.resolve())] + (["--resume"] if resume else [])
    if nproc <= 1:
        return [sys.executable, "-m", WORKER_MODULE, *tail]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes",
        "1",
        "--nproc_per_node",
        str(nproc),
        *_shutdown_timeout_args(),
        "-m",
        WORKER_MODULE,
        *tail,
    ]


def _shutdown_timeout_args() -> list[str]:
    """`--shutdown_timeout` exists only in newer torchrun versions; look in its source, not by importing torch."""
    import importlib.util

    spec = importlib.util.find_spec("torch")  # a top-level spec: torch itself is not imported
    try:
        run_py = Path(spec.origin).parent / "distributed" / "run.py" if spec and spec.origin else None
        source = run_py.read_text(encoding="utf-8") if run_py else ""
    except OSError:
        source = ""
    return ["--shutdown_timeout", str(TORCHRUN_SHUTDOWN_TIMEOUT_S)] if '"--shutdown_timeout"' in source else []


@dataclass(frozen=True)
class LaunchedRun:
    """A training process this caller started: its run folder and the process itself.

    Why not a bare Popen: callers need the run folder (to follow its events) as much as the
    process (to notice an exit code), and an attribute patched onto a Popen is invisible to
    type checkers. Nothing here is needed to control the run later: cancel and status go
    through the run folder, so a run started elsewhere is handled the same way.
    """

    run_dir: RunDir
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout=timeout)


def launch(config: TrainConfig, *, resume: bool = False) -> LaunchedRun:
    """Checks, creates the run folder, and starts the training process; returns at once.

    The process runs in its own session with stdout/stderr appended to the run's train.log, so
    it survives its launcher. The run's lock is taken before the folder is written and handed
    to the child, so two launches into one name can never both proceed. With `resume`,
    `config.run_name` (under `config.output_root`) names the run to continue; its saved config
    is used, not `config`.
    """
    if resume:
        if not config.run_name:
            raise RunNotFoundError("Resuming needs the name of the run to resume.")
        return resume_run(Path(config.output_root) / config.run_name)
    preflight(config)
    run, lock = create_run_locked(config)
    try:
        saved = run.load_config()
    except BaseException:
        lock.release()
        raise
    return _start(run, saved, resume=False, lock=lock)


def resume_run(run_dir: RunDir | str | Path) -> LaunchedRun:
    """Continues a cancelled or killed run from its newest complete checkpoint (same data order,
    scheduler, optimizer and RNG state: the Trainer restores them from the checkpoint)."""
    run = as_run(run_dir)
    if not run.exists():
        raise RunNotFoundError(f"Cannot resume {run.path}: it is not a run folder (no config.toml).")
    status = run_status(run)
    if status == "running":
        pid = read_lock_pid(run)
        raise BnnerError(f"Run {run.name} is still running (pid {pid}): there is nothing to resume.")
    if status == "finished":
        raise BnnerError(f"Run {run.name} already finished: there is nothing to resume.")
    if latest_checkpoint(run) is None:
        raise BnnerError(
            f"Run {run.name} has no complete checkpoint to resume from (it stopped before its first save):"
            " start it again as a new run."
        )
    config = run.load_config()
    preflight(config, resume=True)
    return _start(run, config, resume=True)


# `resume(run_dir)` is the name in the contract; `resume_run` reads better next to `launch`.
resume = resume_run


def _start(run: RunDir, config: TrainConfig, *, resume: bool, lock: RunLock | None = None) -> LaunchedRun:
    if lock is None:
        lock = RunLock(run).acquire()  # refuses a second launch into a live run, with one sentence
    assert lock.fd is not None
    try:
        os.set_inheritable(lock.fd, True)
        env = dict(os.environ)
        env[LOCK_FD_ENV] = str(lock.fd)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        cmd = worker_command(run, nproc=config.nproc, resume=resume)
        with open(run.log_path, "ab") as log:
            if resume:
                log.write(f"\n---- resume at {time.strftime('%Y-%m-%d %H:%M:%S')} ----\n".encode())
                log.flush()
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    pass_fds=(lock.fd,),
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as err:
                lock.release()
                raise BnnerError(f"Cannot start the training process: {err.strerror or err}.") from None
        # The pid to signal: the worker (which writes the same pid itself when it adopts the lock) or
        # torchrun's agent. Both lead their own session, so the process group id is the pid.
        lock.write_pid(proc.pid, proc.pid)
        lock.detach()  # the child's inherited descriptor keeps the lock
    except BaseException:
        lock.release()
        raise
    return LaunchedRun(run, proc)


# ---- cancelling --------------------------------------------------------------------------------


def cancel(run_dir: RunDir | str | Path, *, sig: int = signal.SIGINT) -> int:
    """Asks a live run to stop: it finishes the current step, saves a checkpoint, emits `cancelled`.

    The signal goes to the pid in run.lock: the worker itself, or torchrun's agent, which forwards
    it to every worker. Returns the pid signalled; `NotRunningError` when nothing holds the lock.
    """
    run = as_run(run_dir)
    if not lock_is_held(run):
        raise NotRunningError(f"Run {run.name} is not running (status: {run_status(run)}): nothing to cancel.")
    pid = read_lock_pid(run)
    if pid is None:
        raise NotRunningError(f"Run {run.name} has no pid in {run.lock_path.name}: cannot signal it.")
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        raise NotRunningError(f"Run {run.name}'s process {pid} has already exited.") from None
    except PermissionError:
        raise BnnerError(f"Not allowed to signal run {run.name}'s process {pid} (another user's run?).") from None
    return pid


def wait_for_exit(run_dir: RunDir | str | Path, timeout: float) -> bool:
    """Waits until the run's lock is free (the process exited); True if it did within `timeout`."""
    run = as_run(run_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_is_held(run):
            return True
        time.sleep(0.1)
    return not lock_is_held(run)


__all__ = [
    "LaunchedRun",
    "NotRunningError",
    "cancel",
    "check_output_root",
    "estimated_run_bytes",
    "launch",
    "preflight",
    "resume",
    "resume_run",
    "wait_for_exit",
    "worker_command",
]
