"""The monthly operations-finance pack (docs/export-pack.md): KPIs against their guardrails, the variance
bridge, the month's alerts and the open actions, as one Excel workbook or one printable HTML page.

`pack_contents(ws, period, sites)` gathers the tables from the engines through the Workspace (it never
computes a figure of its own; pack_sections.py); `build_pack(ws, period, fmt, sites)` renders them
(pack_xlsx.py, pack_html.py). A pack for a site scope holds only the rows of those sites, and leaves out
the company-level figures that mix other sites' data (DSO, the company variance bridge).

    from opsfin.export.pack import build_pack, pack_filename
    data = build_pack(ws, "2024-03", "xlsx", sites=("P1",))
    Path(pack_filename("2024-03", "xlsx")).write_bytes(data)
"""

from __future__ import annotations

import datetime as dt

from ..core.dimensions import SiteMap
from ..core.periods import parse_period
from ..errors import UserError
from .pack_model import PackContents

PACK_FORMATS = ("xlsx", "html")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def check_format(fmt: str) -> str:
    if fmt not in PACK_FORMATS:
        raise UserError(f"a pack is one of {', '.join(PACK_FORMATS)}", param="format", value=fmt)
    return fmt


def pack_filename(period: str, fmt: str) -> str:
    """The file name of a pack: `pack-YYYY-MM.xlsx` or `pack-YYYY-MM.html`."""
    first, _ = parse_period(period, "--period")
    return f"pack-{first:%Y-%m}.{check_format(fmt)}"


def pack_media_type(fmt: str) -> str:
    """The HTTP content type of a pack in this format."""
    return MEDIA_TYPES[check_format(fmt)]


def pack_contents(
    ws,
    period: str,
    sites: tuple[str, ...] | list[str] | None = None,
    generated_at: dt.datetime | None = None,
    app_db=None,
) -> PackContents:
    """The pack's tables for the month `period` (YYYY-MM), for the company or for the given sites.

    `app_db`: the AppDB holding the actions (default: the workspace's, `open_app_db(ws)`).
    UserError for a bad period, a month without data, or an unknown site."""
    from . import pack_sections as ps

    first, last = parse_period(period, "--period")
    ps.check_month_has_data(ws, first, last)
    site_map = SiteMap.read(ws.table)
    scope = site_map.check_scope(sites)
    now = generated_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    sections = (
        ps.kpi_section(ws, first, last, scope, site_map),
        ps.variance_section(ws, first, last, scope, site_map),
        ps.alert_section(ws, first, last, scope, site_map),
        ps.action_section(ws, now.date(), scope, app_db),
    )
    from .pack_charts import trend_charts, waterfall_chart

    waterfall = waterfall_chart(sections[1])
    charts = ((waterfall,) if waterfall else ()) + tuple(trend_charts(ws, last, scope))
    return PackContents(
        charts=charts,
        company=ws.settings.company,
        base_currency=ws.settings.base_currency,
        period=f"{first:%Y-%m}",
        month_start=first,
        month_end=last,
        generated_at=now,
        sites=scope,
        sections=sections,
    )


def render(contents: PackContents, fmt: str) -> bytes:
    """Render gathered contents as an xlsx workbook or an HTML page."""
    if check_format(fmt) == "xlsx":
        from .pack_xlsx import render_xlsx

        return render_xlsx(contents)
    from .pack_html import render_html

    return render_html(contents).encode("utf-8")


def build_pack(ws, period: str, fmt: str, sites: tuple[str, ...] | list[str] | None = None, *, app_db=None) -> bytes:
    """The monthly operations-finance pack for `period` (YYYY-MM) as `fmt` ("xlsx" or "html") bytes.

    `sites`: None for the company pack, else only the rows of these sites (a site-scoped user's pack).
    `app_db`: the AppDB to read open actions from (default: the workspace's own, `open_app_db(ws)`)."""
    check_format(fmt)
    return render(pack_contents(ws, period, sites, app_db=app_db), fmt)
