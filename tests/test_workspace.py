"""Workspace creation, settings from opsfin.yaml and their OPSFIN_* overrides, and the CLI front door."""

from __future__ import annotations

import subprocess
import sys

import pytest

import opsfin
from opsfin.canonical import MODEL_TABLE_NAMES


def test_init_creates_settings_model_and_every_table(tmp_path):
    ws = opsfin.init(tmp_path / "w")
    assert (ws.path / "opsfin.yaml").exists() and ws.model_dir.is_dir()
    counts = ws.row_counts()
    assert set(MODEL_TABLE_NAMES) <= set(counts) and all(counts[t] == 0 for t in MODEL_TABLE_NAMES)
    assert {"loads", "quarantine", "closed_periods"} <= set(counts)


def test_settings_file_and_environment_override(tmp_path, monkeypatch):
    ws = opsfin.init(tmp_path / "w", base_currency="CHF")
    assert opsfin.open(ws.path).settings.base_currency == "CHF"
    monkeypatch.setenv("OPSFIN_BASE_CURRENCY", "USD")
    monkeypatch.setenv("OPSFIN_WAREHOUSE__BACKEND", "spark")
    s = opsfin.open(ws.path).settings
    assert s.base_currency == "USD" and s.warehouse.backend == "spark"


def test_init_keeps_existing_settings(tmp_path):
    ws = opsfin.init(tmp_path / "w", company="First")
    opsfin.init(ws.path, company="Second")
    assert opsfin.open(ws.path).settings.company == "First"


def test_open_errors_are_user_errors(tmp_path):
    with pytest.raises(opsfin.UserError, match="not an opsfin workspace"):
        opsfin.open(tmp_path)
    (tmp_path / "opsfin.yaml").write_text("base_currency: euro\n")
    with pytest.raises(opsfin.UserError, match="base_currency"):
        opsfin.open(tmp_path)


def test_cli_init_and_a_user_mistake(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "opsfin", "init", str(tmp_path / "w")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and (tmp_path / "w" / "warehouse.duckdb").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "opsfin", "check", "-w", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "not an opsfin workspace" in bad.stderr


def test_cli_demo_tiny(tmp_path):
    d = tmp_path / "demo"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "demo",
            "--dir",
            str(d),
            "--scale",
            "tiny",
            "--seed",
            "7",
            "--no-serve",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "Demo company built" in run.stdout
    counts = opsfin.open(d).row_counts()
    from opsfin.canonical.tables import DERIVED_TABLES  # filled by the engines (a forecast), not the demo

    assert all(counts[t] > 0 for t in MODEL_TABLE_NAMES if t not in DERIVED_TABLES)
    assert (d / "truth" / "anomalies.json").exists()
    # the demo's people: an admin and a plant manager limited to one plant, passwords printed once
    from opsfin.appdb import open_app_db

    users = {u.name: u for u in open_app_db(opsfin.open(d)).list_users()}
    assert users["admin"].role == "admin" and users["admin"].sites is None
    assert users["plant-manager"].sites == ("P1",)
    printed = dict(
        line.split()[:2] for line in run.stdout.splitlines() if line.strip().startswith(("admin ", "plant-manager "))
    )
    assert open_app_db(opsfin.open(d)).authenticate("admin", printed["admin"]) is not None
    # a second run into the same demo folder rebuilds it instead of appending
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "demo",
            "--dir",
            str(d),
            "--scale",
            "tiny",
            "--seed",
            "7",
            "--no-serve",
        ],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0 and opsfin.open(d).row_counts() == counts


def test_demo_refuses_a_workspace_that_is_not_a_demo(tmp_path):
    ws = opsfin.init(tmp_path / "mine")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "demo",
            "--dir",
            str(ws.path),
            "--scale",
            "tiny",
            "--no-serve",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "not a demo" in run.stderr
