"""The pack as one self-contained, printable HTML page (Jinja2, autoescaped; inline CSS, no external asset).

Cells are formatted here (money with two decimals and thousands separators, ratios as percentages,
dates ISO) and carry a class for right-aligned numbers and status colours; the template lays them out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import jinja2
from markupsafe import Markup

from .pack_charts import svg
from .pack_model import PackContents, Section, cell_kind, cell_value, format_value, status_tone

TEMPLATES = Path(__file__).parent / "templates"
NUMERIC_KINDS = ("money", "number", "integer", "percent", "days")


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    css: str = ""


def section_rows(section: Section) -> list[Row]:
    """The section's rows as formatted cells, with their classes (a footing row is `total`)."""
    out = []
    for row in section.table.to_dicts():
        cells = []
        for col in section.columns:
            value, kind = cell_value(col, row), cell_kind(col, row)
            css = []
            if kind in NUMERIC_KINDS:
                css.append("num")
                if isinstance(value, int | float | Decimal) and value < 0:
                    css.append("neg")
            if kind in ("date", "datetime"):
                css.append("date")
            if kind == "status" and (tone := status_tone(value, row)):
                css.append(f"tone-{tone}")
            cells.append(Cell(format_value(value, kind), " ".join(css)))
        out.append(Row(cells, "total" if row.get("part") == "total" else ""))
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(contents: PackContents) -> str:
    """The page's text."""
    sections = [
        {
            "section": s,
            "rows": section_rows(s),
            "numeric": [cell_kind(c, {}) in NUMERIC_KINDS for c in s.columns],
        }
        for s in contents.sections
    ]
    return (
        _environment()
        .get_template("pack.html")
        .render(
            pack=contents,
            sections=sections,
            generated=format_value(contents.generated_at, "datetime"),
            charts=[{"chart": c, "svg": Markup(svg(c))} for c in contents.charts],
            wide=[[c.wide for c in s.columns] for s in contents.sections],
        )
    )
