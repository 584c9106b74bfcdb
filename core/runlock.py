"""One training process per run folder: an exclusive `flock` on `run.lock`, and whom to signal.

Why a lock file with `fcntl.flock` rather than a pid file alone: the kernel drops a flock when
its holder dies, however it dies (SIGKILL, OOM killer, power cut of the session), so "is this
run alive?" never depends on a pid that may have been reused. The pid inside is only there to
know whom to signal for a cancel.

Standard library only: the CLI and TUI probe locks while listing runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from bnner_tui.core.rundir import RunDir, RunLockedError, as_run

# The launcher hands its locked file descriptor to the training process through these.
LOCK_FD_ENV = "BNNER_RUN_LOCK_FD"


class RunLock:
    """An exclusive `flock` on `run.lock`, held for the life of the training process.

    The file holds the pid to signal for a cancel (line 1) and its process group (line 2).
    """

    def __init__(self, run: RunDir | str | Path) -> None:
        self.run = as_run(run)
        self.fd: int | None = None
        self.adopted = False

    @property
    def held(self) -> bool:
        return self.fd is not None or self.adopted

    def acquire(self) -> RunLock:
        """Takes the lock or raises `RunLockedError` naming the pid that holds it; never waits."""
        if self.held:
            return self
        self.run.path.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.run.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    pid = read_lock_pid(self.run)
                    who = f" (pid {pid})" if pid else ""
                    raise RunLockedError(
                        f"Run {self.run.path} is in use by another training process{who}: wait for it, or cancel it"
                        f" with: bnner-tui cancel {self.run.name}."
                    ) from None
                raise
            if _same_file(fd, self.run.lock_path):
                break
            os.close(fd)  # the holder removed the file as it let go: lock the new one instead
        self.fd = fd
        self.write_pid(os.getpid(), os.getpgid(0))
        return self

    def write_pid(self, pid: int, pgid: int | None = None) -> None:
        if self.fd is None:
            return
        data = f"{pid}\n{pgid if pgid is not None else pid}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        """Removes run.lock (while still holding it, so no one locks a file about to vanish), then lets go."""
        if self.fd is not None:
            try:
                if _same_file(self.fd, self.run.lock_path):
                    os.unlink(self.run.lock_path)
            except OSError:
                pass
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None
        self.adopted = False

    def detach(self) -> None:
        """Closes this process's descriptor without unlocking: a child that inherited it keeps the lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def acquire_lock(run: RunDir | str | Path) -> RunLock:
    """The training process's way to hold its run's lock.

    When `launch()` started this process it already locked the file and passed the descriptor
    down (`BNNER_RUN_LOCK_FD`): that lock is adopted, so there is no moment in which the run looks
    free. Under torchrun, where the launcher process (torchrun's agent, our parent) holds the lock,
    the worker adopts it too. Started by hand, the process takes the lock itself.
    """
    rd = as_run(run)
    lock = RunLock(rd)
    fd_text = os.environ.get(LOCK_FD_ENV)
    if fd_text and fd_text.isdigit():
        fd = int(fd_text)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(rd.lock_path))
        except OSError:
            same = False
        if same:
            lock.fd = fd
            os.set_inheritable(fd, False)
            lock.write_pid(os.getpid(), os.getpgid(0))
            del os.environ[LOCK_FD_ENV]
            return lock
        holder = read_lock_pid(rd)
        if holder is not None and holder == os.getppid() and lock_is_held(rd):
            lock.adopted = True
            return lock
    return lock.acquire()


def lock_is_held(run: RunDir | str | Path) -> bool:
    """Whether some process holds the run's lock (tested with a non-blocking flock, then let go)."""
    rd = as_run(run)
    try:
        fd = os.open(rd.lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_lock_pid(run: RunDir | str | Path) -> int | None:
    return _read_lock_ids(as_run(run))[0]


def _read_lock_ids(rd: RunDir) -> tuple[int | None, int | None]:
    try:
        lines = rd.lock_path.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None, None
    ids = [int(x) for x in lines[:2] if x.isdigit()]
    pid = ids[0] if ids else None
    pgid = ids[1] if len(ids) > 1 else pid
    return pid, pgid
