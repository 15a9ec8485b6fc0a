"""The small helpers that several engines and commands share (one home each): a model file's unique names,
finding a named entry, the CLI's plain stderr lines and model-file listings, the master table of a
dimension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from opsfin.cli.options import OutputFormat, options_bundle
from opsfin.cli.output import note, print_model_entries, step, warn
from opsfin.errors import UserError
from opsfin.model_schema import Entry as FileEntry
from opsfin.model_schema import EntryName, NamedList, unique_names
from opsfin.runs.model import find_named


@dataclass(frozen=True)
class Entry:
    name: str
    size: int = 0


def test_unique_names_returns_the_set_of_names():
    assert unique_names([Entry("a"), Entry("b"), Entry("c")], "case") == {"a", "b", "c"}
    assert unique_names([], "case") == set()


def test_unique_names_refuses_a_name_given_twice_naming_kind_and_name():
    with pytest.raises(ValueError, match=r"^scenario 'b' is named twice; names are unique$"):
        unique_names([Entry("a"), Entry("b"), Entry("b")], "scenario")


class Shelf(FileEntry):
    name: EntryName


class ShelfFile(NamedList[Shelf]):
    LIST = "shelves"
    KIND = "shelf"
    shelves: list[Shelf] = []


def test_named_list_finds_an_entry_by_name_and_refuses_a_name_given_twice():
    shelves = ShelfFile.parse({"shelves": [{"name": "top"}, {"name": "low"}]}, "shelves.yaml")
    assert shelves.get("low") == Shelf(name="low") and shelves.get("middle") is None
    assert [s.name for s in shelves.entries()] == ["top", "low"]
    with pytest.raises(UserError, match=r"^shelves.yaml: shelf 'top' is named twice; names are unique$"):
        ShelfFile.parse({"shelves": [{"name": "top"}, {"name": "low"}, {"name": "top"}]}, "shelves.yaml")


def test_an_empty_named_list_file_has_no_entries_and_a_stray_key_names_the_file():
    assert ShelfFile.parse(None, "shelves.yaml").entries() == []
    with pytest.raises(UserError, match=r"^shelves.yaml: .*unknown key 'shelf'"):
        ShelfFile.parse({"shelf": []}, "shelves.yaml")


def test_an_entry_name_is_letters_digits_and_underscore_dot_dash_only():
    assert ShelfFile.parse({"shelves": [{"name": "Top_2.b-x"}]}, "s.yaml").get("Top_2.b-x") is not None
    for bad in ("top shelf", "B2025+top", "top/2", ""):
        with pytest.raises(
            UserError, match=r"^s.yaml: shelves\[1\].*field 'name': .*use letters, digits and _ \. - only$"
        ):
            ShelfFile.parse({"shelves": [{"name": bad}]}, "s.yaml")


def test_find_named_returns_the_first_entry_of_that_name():
    entries = [Entry("a", 1), Entry("b", 2), Entry("b", 3)]
    assert find_named(entries, "b", "scenario", "scenarios.yaml") == Entry("b", 2)


def test_find_named_lists_the_names_there_are():
    with pytest.raises(UserError, match=r"'x': no such experiment \(experiments: a, b\)"):
        find_named(iter([Entry("a"), Entry("b")]), "x", "experiment", "experiments.yaml")


def test_find_named_in_an_empty_file_says_where_to_add_one():
    with pytest.raises(UserError, match=r"'x': no such scenario \(scenarios: none: add one to model/scenarios.yaml\)"):
        find_named([], "x", "scenario", "scenarios.yaml")


def test_note_prints_one_unwrapped_line_without_markup(capsys):
    long = "path/" + "x" * 300
    note(f"[bold]{long}[/bold]")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"[bold]{long}[/bold]\n"


def test_step_and_warn_prefix_each_line(capsys):
    step("reading the warehouse")
    warn(["first", "second"])
    assert capsys.readouterr().err == "… reading the warehouse\nwarning: first\nwarning: second\n"


def test_model_entries_without_any_say_where_to_add_them_in_a_table_only(capsys):
    print_model_entries([], OutputFormat.table, "scenarios")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "no scenarios: add them to model/scenarios.yaml (docs/scenarios.md)\n"
    print_model_entries([], OutputFormat.json, "scenarios")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("[]\n", "")


def test_model_entries_print_their_rows(capsys):
    print_model_entries([{"name": "a", "base": "B1"}], OutputFormat.csv, "experiments")
    assert capsys.readouterr().out == "name,base\na,B1\n"


def test_master_tables_are_the_web_names_and_the_scenario_scopes():
    from opsfin.core.dimensions import MASTER_TABLES
    from opsfin.runs.scenarios import MEMBERS
    from opsfin.web.names import MASTER_NAMES, dimension_of

    assert MASTER_NAMES["work_center"] == ("work_centers", "work_center_id")
    assert dimension_of("cost_center_id") == "cost_center"
    assert MEMBERS["work_centers"] == MASTER_TABLES["work_center"] == ("work_centers", "work_center_id")
    assert MEMBERS["families"] == ("products", "family")
    assert MEMBERS["currencies"] == ("suppliers", "currency")
    assert set(MEMBERS) == {"products", "families", "sites", "suppliers", "customers", "work_centers", "currencies"}


def test_a_model_files_header_is_its_leading_comments_and_blank_lines():
    from opsfin.web.scenario_file import file_header

    text = "# the guardrails\n\n# of the demo\nguardrails:\n# not this one\n- kpi: oee\n"
    assert file_header(text) == "# the guardrails\n\n# of the demo\n"
    assert file_header("# only comments\n\n") == "# only comments\n\n"
    assert file_header("scenarios: []\n") == ""
    assert file_header("") == ""


def test_a_model_files_read_text_is_empty_without_the_file(tmp_path):
    from types import SimpleNamespace

    from opsfin.web.scenario_file import read_text

    ws = SimpleNamespace(model_dir=tmp_path)
    assert read_text(ws, "investments.yaml") == ""
    (tmp_path / "investments.yaml").write_text("investments: []\n", encoding="utf-8")
    assert read_text(ws, "investments.yaml") == "investments: []\n"


def test_the_audit_record_of_an_entry_is_parsed_when_it_parses_alone():
    import datetime as dt

    from opsfin.invest.config import Case
    from opsfin.web.scenario_file import audit_dump

    assert audit_dump(None) is None
    assert audit_dump({"name": "s1", "base": "B1"}) == {"name": "s1", "base": "B1", "shocks": []}
    broken = {"name": "c1", "life_years": "many", "cash_flows": [{"date": dt.date(2026, 1, 31), "amount": 5}]}
    assert audit_dump(broken, Case) == {
        "name": "c1",
        "life_years": "many",
        "cash_flows": [{"date": "2026-01-31", "amount": 5}],
    }


@dataclass(frozen=True)
class Window:  # module level: the verb's annotations are read by name (from __future__ import annotations)
    weeks: int
    label: str


def test_options_bundle_gives_the_verb_its_own_options_and_the_shared_ones_bundled():
    window_options = options_bundle(
        "window",
        Window,
        (
            ("weeks", Annotated[int, typer.Option("--weeks")], 4),
            ("label", Annotated[str, typer.Option("--label")], "none"),
        ),
    )
    seen = []
    app = typer.Typer()

    @app.command()
    @window_options
    def verb(size: Annotated[int, typer.Option("--size")] = 1, *, window: Window) -> None:
        seen.append((size, window))

    @app.command()
    def other() -> None:  # two commands: Typer then names them
        pass

    runner = CliRunner()
    assert runner.invoke(app, ["verb", "--label", "x", "--size", "3"]).exit_code == 0
    assert runner.invoke(app, ["verb"]).exit_code == 0
    assert seen == [(3, Window(4, "x")), (1, Window(4, "none"))]
    help_text = runner.invoke(app, ["verb", "--help"]).output
    assert help_text.index("--size") < help_text.index("--weeks") < help_text.index("--label")
