"""Shared pytest fixtures. Each section belongs to the change that added it."""

from __future__ import annotations

import pytest

import opsfin


# ---------------------------------------------------------------- ingest fixtures (begin)
@pytest.fixture
def workspace(tmp_path):
    """A fresh, empty workspace (settings, model/ and a warehouse holding every table)."""
    return opsfin.init(tmp_path / "ws")


# ---------------------------------------------------------------- ingest fixtures (end)


# ---------------------------------------------------------------- demo fixtures (begin)
@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory):
    """The tiny demo company, seed 7, built once per test session."""
    from opsfin.demo import generate

    return generate(tmp_path_factory.mktemp("tiny") / "ws", scale="tiny", seed=7).workspace


# ---------------------------------------------------------------- demo fixtures (end)
