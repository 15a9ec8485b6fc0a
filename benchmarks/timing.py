"""Timing one opsfin command in a child process, for the benchmark scripts: its wall time and the CPU
seconds the child used (user + system), so a script can report both beside the machine's load."""

from __future__ import annotations

import resource
import subprocess
import time


def timed_run(command: list[str], **run_options) -> tuple[subprocess.CompletedProcess, float, float]:
    """`subprocess.run(command, capture_output=True, text=True, **run_options)`, its wall seconds and the CPU
    seconds of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, **run_options)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return run, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
