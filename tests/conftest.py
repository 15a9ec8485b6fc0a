"""Shared pytest fixtures. Each section belongs to the change that added it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import opsfin


# ---------------------------------------------------------------- ingest fixtures (begin)
@pytest.fixture
def workspace(tmp_path):
    """A fresh, empty workspace (settings, model/ and a warehouse holding every table)."""
    return opsfin.init(tmp_path / "ws")


# ---------------------------------------------------------------- ingest fixtures (end)


@pytest.fixture
def cheap_password_hashes(monkeypatch):
    """Hash the passwords of the people a test adds at argon2's lowest cost, for tests not about passwords
    (`pytestmark = pytest.mark.usefixtures("cheap_password_hashes")`)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "opsfin.appdb.people.hash_password", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash
    )


# ---------------------------------------------------------------- demo fixtures (begin)
def built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder `name` that `build(folder)` fills, built once per test run and shared by every pytest-xdist
    worker: the first worker to ask builds it under a file lock, the others wait for it."""
    import fcntl
    import os

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory):
    """The tiny demo company, seed 7, built once per test run (`built_once`) and copied into each worker's
    own temporary folder (tens of ms), so no two workers ever open the same warehouse."""
    from opsfin.demo import generate

    built = built_once(tmp_path_factory, "tiny-7", lambda folder: generate(folder / "ws", scale="tiny", seed=7))
    return opsfin.open(shutil.copytree(built / "ws", tmp_path_factory.mktemp("tiny") / "ws"))


@pytest.fixture(scope="session")
def demo_company(tmp_path_factory):
    """The demo-scale company, seed 42, built once per test run and shared by every pytest-xdist worker (the
    first worker to ask builds it under a file lock; the others wait and open it). Read it, never change it:
    copy its folder when a test must write. `OPSFIN_DEMO_SCALE=PATH` uses a demo already built there."""
    import os

    if os.environ.get("OPSFIN_DEMO_SCALE"):
        return opsfin.open(os.environ["OPSFIN_DEMO_SCALE"])
    from opsfin.demo import generate

    built = built_once(tmp_path_factory, "demo-scale-42", lambda folder: generate(folder / "ws", scale="demo", seed=42))
    return opsfin.open(built / "ws")


# ---------------------------------------------------------------- demo fixtures (end)


# ---------------------------------------------------------------- parallel runs (begin)
def spark_or_module(nodeid: str) -> str:
    """The file of a test, with every Spark file (`*spark*.py`) as one: they share one worker and one JVM."""
    module = nodeid.split("::", 1)[0]
    return "spark" if "spark" in module.rsplit("/", 1)[-1] else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs pytest-xdist with `--dist loadfile` (docs/testing.md): each test file stays in one
    worker, so its module-scoped fixtures are built once; here the Spark files also count as one file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return spark_or_module(nodeid)

    return FileScheduling(config, log)


# ---------------------------------------------------------------- parallel runs (end)
