"""The model files: shipped defaults, one clear error per bad file, and safe KPI expressions."""

from __future__ import annotations

import ibis
import pytest
import yaml

import opsfin
from cli_support import run_cli
from opsfin.errors import UserError
from opsfin.kpis.definitions import KPI_BY_ID
from opsfin.kpis.expressions import MAX_DEPTH, MAX_LENGTH, Expression


# ------------------------------------------------------------------ KPI expressions
@pytest.fixture(scope="module")
def rows():
    """Three rows: a = 1, 2, 3 (sum 6); b = 10, 20, 30; kind x, y, x."""
    con = ibis.duckdb.connect()
    return con.create_table(
        "r", ibis.memtable({"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0, 30.0], "kind": ["x", "y", "x"]})
    )


def total(rel, text, keep=None):
    if keep:
        rel = rel.filter(Expression(keep, "test filter")(rel))
    value = Expression(text, "test")(rel).cast("float64")
    return rel.select(v=value).v.sum().execute()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 3.0),  # a constant counts the rows: 1 + 1 + 1
        ("2.5", 7.5),  # 3 × 2.5
        ("-1", -3.0),
        ("a * b", 140.0),  # 10 + 40 + 90
        ("(a + 1) * 2", 18.0),  # (2 + 3 + 4) × 2
        ("if_else(kind == 'x', a, 0)", 4.0),  # 1 + 3
        ("if_else(kind in ('y',), a, 0)", 2.0),  # only the y row
    ],
)
def test_expressions_compute_hand_worked_sums(rows, text, expected):
    assert total(rows, text) == expected


def test_filters_with_not_in_and_chains(rows):
    assert total(rows, "a", keep="kind not in ('y',)") == 4.0  # rows 1 and 3
    assert total(rows, "a", keep="1 < a <= 3 and not_null(b)") == 5.0  # rows 2 and 3
    assert total(rows, "b", keep="not (a > 1)") == 10.0  # row 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("None", "None is not a value"),
        ("'abc'", "must give a number or a condition"),
        ("1e999", "not finite"),
        ("9" * 40, "too large"),
        ("a ** 2", "Pow is not allowed"),
        ("a.sum()", "not allowed"),
        ("open('x')", "this call is not allowed"),
        ("if_else(a > 1, a)", "if_else takes 3 argument"),
        ("a in b", "'in' needs a list of constants"),
        ("(1, 2)", "a list is only allowed after 'in'"),
        ("a +", "not an expression"),
        ("", "empty expression"),
        ("zzz", "unknown column zzz"),
    ],
)
def test_bad_expressions_are_user_errors(rows, text, message):
    with pytest.raises(UserError, match=message):
        total(rows, text)


def test_huge_or_deep_expressions_are_refused_quickly():
    with pytest.raises(UserError, match=f"at most {MAX_LENGTH:,} are allowed"):
        Expression("1" * 300_000_000, "kpi 'big' numerator")
    with pytest.raises(UserError, match="at most 2,000"):
        Expression("+".join(["a"] * 20_000), "kpi 'long' numerator")
    deep = "-" * (MAX_DEPTH + 1) + "a"  # 51 nested minus signs, well under the length limit
    with pytest.raises(UserError, match=f"nested {MAX_DEPTH + 1} levels deep; at most {MAX_DEPTH}"):
        Expression(deep, "kpi 'deep' numerator")
    Expression("-" * (MAX_DEPTH - 1) + "a", "kpi 'ok'")  # 49 levels are fine
    with pytest.raises(UserError, match="not an expression|nested too deeply"):
        Expression("(" * 600 + "a" + ")" * 600, "kpi 'parens' numerator")


def test_built_in_formula_is_the_expression_computed():
    assert KPI_BY_ID["availability"].formula == "sum(run_minutes) / sum(planned_minutes) over machine_readings"
    assert KPI_BY_ID["throughput_per_hour"].formula == "60 * sum(qty_good) / sum(run_minutes) over operations"
    part = KPI_BY_ID["availability"].parts[0]
    assert (part.num.text, part.den.text) == ("run_minutes", "planned_minutes")


def _custom(tmp_path, entry):
    ws = opsfin.init(tmp_path / "ws")
    path = ws.model_dir / "kpis.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["kpis"].append(entry)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return ws


def test_constant_numerator_custom_kpi_loads(tmp_path):
    ws = _custom(tmp_path, {"id": "op_count", "source": "operations", "numerator": 1})
    kpi = ws.kpi_catalog()["op_count"]
    assert (kpi.kind, kpi.formula) == ("sum", "sum(1) over operations")


@pytest.mark.parametrize(
    "numerator, message",
    [
        ("1" * 5000, "expression of 5,000 characters; at most 2,000"),
        ("-" * 60 + "run_minutes", "nested 60 levels deep"),
        ("None", "None is not a value"),
    ],
)
def test_cli_refuses_unsafe_custom_kpi_with_exit_2(tmp_path, capsys, numerator, message):
    ws = _custom(tmp_path, {"id": "risky", "source": "operations", "numerator": numerator})
    code, out, err = run_cli(capsys, "kpi", "--list", "-w", str(ws.path))
    assert code == 2 and "Traceback" not in out + err
    assert "kpis.yaml: kpi 'risky' numerator" in err and message in err


# ------------------------------------------------------------------ shipped defaults
def test_defaults_are_copied_once_and_never_overwrite(tmp_path):
    from opsfin.model_defaults import FILES, default_text
    from opsfin.model_files import write_default_model_files

    model = tmp_path / "model"
    model.mkdir()
    (model / "guardrails.yaml").write_text("guardrails: []\n", encoding="utf-8")  # the user's own file
    write_default_model_files(model)
    assert (model / "guardrails.yaml").read_text(encoding="utf-8") == "guardrails: []\n"
    for name in FILES[1:]:
        assert (model / name).read_text(encoding="utf-8") == default_text(name)
    assert "# Service cost allocations" in (model / "allocations.yaml").read_text(encoding="utf-8")  # comments kept
    catalog = yaml.safe_load((model / "kpis.yaml").read_text(encoding="utf-8"))["kpis"]
    oee = next(k for k in catalog if k["id"] == "oee")
    assert oee["formula"] == "sum(ideal_cycle_seconds * units_good) / sum(planned_minutes * 60) over machine_readings"


def test_default_values_are_the_documented_ones(tmp_path):
    """The values the defaults held as Python text, checked one by one against the docs."""
    from opsfin.model_files import write_default_model_files
    from opsfin.runs.model import (
        load_abc_config,
        load_allocation_config,
        load_detection,
        load_guardrails,
    )

    model = tmp_path / "model"
    write_default_model_files(model)
    bands = {(g.kpi, g.min, g.max, g.severity) for g in load_guardrails(model, KPI_BY_ID)}
    assert bands == {  # the table "Shipped guardrails" of docs/alerts.md
        ("overtime_share", None, 0.14, "warn"),
        ("dio", 20, 55, "warn"),
        ("maintenance_cost", None, 60000, "info"),
        ("oee", 0.65, None, "warn"),
        ("support_utilization", 0.45, 0.95, "warn"),
        ("dso", None, 55, "stop"),
        ("on_time_delivery", 0.85, None, "stop"),
        ("capacity_utilization", None, 1.0, "warn"),
        ("gross_margin", 0, None, "stop"),
    }
    scans = load_detection(model, KPI_BY_ID)
    assert len(scans) == 15
    energy = scans[0]
    assert (
        energy.kpi,
        energy.by,
        energy.peers,
        energy.settings.grain,
        energy.settings.threshold,
        energy.settings.min_change,
        energy.settings.slack,
    ) == ("energy_per_unit", ("work_center", "machine"), "work_center", "month", 5, 0.12, 1.0)
    weekly = next(s for s in scans if s.kpi == "performance").settings
    assert (weekly.grain, weekly.baseline, weekly.min_history, weekly.threshold, weekly.cap) == (
        "week",
        52,
        26,
        7.5,
        4,
    )
    abc = load_abc_config(model)
    assert abc.activities["A-ADMIN"] == "revenue" and abc.traditional == "units" and len(abc.resources) == 5
    assert abc.resources[0].fallback == "A-MAINT" and abc.resources[4].split == (("A-ADMIN", 100),)
    alloc = load_allocation_config(model)
    assert [r.drivers for r in alloc.rules] == [
        ("maintenance_hours", "machine_hours"),
        ("headcount",),
        ("headcount",),
        ("headcount",),
    ]
    assert [r.same_site for r in alloc.rules] == [True, True, False, False] and len(alloc.step_order) == 4


# ------------------------------------------------------------------ one clear error per bad file
@pytest.mark.parametrize(
    "name, text, message",
    [
        (
            "guardrails.yaml",
            "guardrails:\n  - {kpi: oee, min: 0.3}\n  - {kpi: dso, max: yes}",
            "guardrails[2] (dso): field 'max': expected a number, got true",
        ),
        (
            "detection.yaml",
            "settings: {slack: false}\nscan: []",
            "field 'settings.slack': expected a number, got false",
        ),
        (
            "detection.yaml",
            "scan:\n  - {kpi: oee, release: 1.5}",
            "scan[1] (oee): field 'release': expected a whole number",
        ),
        (
            "activities.yaml",
            "resources:\n  - {match: {kind: admin}, split: {A: true}}\nactivities: {A: units}",
            "resources[1]: field 'split.A': expected a number, got true",
        ),
        (
            "activities.yaml",
            "resources:\n  - {match: {kind: admin}, split: {A: 100}}\nactivities: {A: units}\ntraditional: hours",
            "field 'traditional': expected one of 'units', 'revenue', 'machine_hours' or",
        ),
        (
            "allocations.yaml",
            "rules:\n  - {senders: {kind: admin}, driver: headcount, receivers: {kind: production}}\n"
            "  - {senders: {colour: red}, driver: headcount, receivers: {kind: production}}",
            "rules[2]: field 'senders': unknown key 'colour'; keys are ids, pattern, kind, site, site_kind",
        ),
        (
            "allocations.yaml",
            "rules:\n  - {senders: S, driver: fixed, weights: {A: -1}, receivers: R}",
            "rules[1]: field 'weights.A': expected a number ≥ 0, got -1",
        ),
        (
            "matching.yaml",
            "bank: {max_suggestions: 3.0}",
            "field 'bank.max_suggestions': expected a whole number, got 3.0",
        ),
        (
            "matching.yaml",
            "bank: {auto_threshold: 2, max_suggestions: 0}",
            "field 'bank.auto_threshold': expected a number ≤ 1, got 2 (and 1 more problem)",
        ),
    ],
)
def test_bad_model_file_is_one_line_naming_file_entry_and_field(tmp_path, name, text, message):
    from opsfin.runs.model import (
        load_abc_config,
        load_allocation_config,
        load_detection,
        load_guardrails,
        load_matching_config,
    )

    model = tmp_path / "model"
    model.mkdir()
    (model / name).write_text(text, encoding="utf-8")
    load = {
        "guardrails.yaml": lambda m: load_guardrails(m, KPI_BY_ID),
        "detection.yaml": lambda m: load_detection(m, KPI_BY_ID),
        "activities.yaml": load_abc_config,
        "allocations.yaml": load_allocation_config,
        "matching.yaml": load_matching_config,
    }[name]
    with pytest.raises(UserError) as err:
        load(model)
    assert str(err.value).startswith(f"model/{name}: {message}")  # named in the workspace, not by its path
    assert "\n" not in str(err.value)


def test_web_guardrail_edit_refuses_json_true_as_a_bound():
    from pydantic import ValidationError

    from opsfin.web.api_guardrails import GuardrailChange, GuardrailIn

    assert GuardrailIn.model_validate({"kpi": "oee", "max": 1}).max == 1.0
    with pytest.raises(ValidationError, match="expected a number, got true"):
        GuardrailIn.model_validate({"kpi": "oee", "max": True})
    with pytest.raises(ValidationError, match="expected a number, got false"):
        GuardrailChange.model_validate({"min": False})


def test_catalog_shows_the_computed_formula_not_an_edited_one(tmp_path):
    ws = opsfin.init(tmp_path / "ws")
    path = ws.model_dir / "kpis.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    oee = next(k for k in data["kpis"] if k["id"] == "oee")
    oee.update(name="Overall equipment effectiveness", formula="availability × performance × quality")
    data["kpis"].append(
        {
            "id": "setup_share",
            "source": "operations",
            "numerator": "setup_minutes",
            "denominator": "setup_minutes + run_minutes",
            "filter": "qty_good > 0",
            "formula": "whatever the user typed",
        }
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    catalog = ws.kpi_catalog()
    assert catalog["oee"].name == "Overall equipment effectiveness"  # text edits apply
    assert catalog["oee"].formula == KPI_BY_ID["oee"].formula  # the formula stays the computed one
    assert (
        catalog["setup_share"].formula
        == "sum(setup_minutes) / sum(setup_minutes + run_minutes) over operations where qty_good > 0"
    )
