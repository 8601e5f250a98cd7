"""Concurrency helpers: file locks across processes, pool workers that die with their parent, umask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core import artifacts
from core.locks import LockTimeoutError, file_lock, lock_path

ROOT = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    """Running (a zombie counts as gone: it holds no CPU and no files)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _python(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


HOLDER = """
import sys, time
from core.locks import file_lock
with file_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""


def test_second_process_waits_for_the_lock(tmp_path):
    target = tmp_path / "datasets" / "mine"
    holder = _python(HOLDER, str(target), "1.5")
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with file_lock(target, timeout=20):
            waited = time.monotonic() - t0
            assert holder.poll() is not None or holder.stdout.readline().strip() == "released"
        assert 0.5 < waited < 15
        assert lock_path(target) == tmp_path / "datasets" / ".mine.lock" and lock_path(target).exists()
    finally:
        holder.kill()
        holder.wait()


def test_lock_timeout_names_the_target_and_what_to_do(tmp_path):
    target = tmp_path / "model"
    holder = _python(HOLDER, str(target), "30")
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(LockTimeoutError) as err:
            with file_lock(target, timeout=0.3):
                pass
        assert 0.25 < time.monotonic() - t0 < 5
        msg = str(err.value)
        assert str(target) in msg and "0.3 s" in msg and "try again" in msg and "\n" not in msg
    finally:
        holder.kill()
        holder.wait()
    with file_lock(target, timeout=5):  # a killed holder's lock is released by the kernel
        pass


def test_lock_is_reentrant_across_sequential_uses(tmp_path):
    order = []
    for i in range(3):
        with file_lock(tmp_path / "x", timeout=1):
            order.append(i)
    assert order == [0, 1, 2]


POOL = """
import time
from core.parallel import process_pool
pool = process_pool(2)
print(" ".join(str(p) for p in pool._processes), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_their_parent_is_killed():
    parent = _python(POOL)
    try:
        line = parent.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)]
    finally:
        parent.kill()
        parent.wait()


def test_pool_watch_runs_the_callers_initializer(tmp_path):
    from core.parallel import process_pool

    pool = process_pool(1, initializer=os.chdir, initargs=(str(tmp_path),))
    try:
        assert pool.submit(os.getcwd).result(timeout=30) == str(tmp_path)
    finally:
        pool.shutdown()


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        f = artifacts.write_text(tmp_path / "a.txt", "hi")
        assert f.stat().st_mode & 0o777 == 0o644
        with artifacts.atomic_dir(tmp_path / "folder") as d:
            (d / "x").write_text("1")
        assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o755
        os.umask(0o077)
        assert artifacts.write_text(tmp_path / "b.txt", "hi").stat().st_mode & 0o777 == 0o600
        os.umask(0o002)
        assert artifacts.write_json(tmp_path / "c.json", {}).stat().st_mode & 0o777 == 0o664
        assert artifacts.current_umask() == 0o002
    finally:
        os.umask(old)
