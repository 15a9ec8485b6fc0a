"""The demo's people: an admin and one site-scoped plant manager, each with a random password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .db import open_app_db
from .passwords import new_password

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder as Workspace

ADMIN = "admin"
PLANT_MANAGER = "plant-manager"
DEMO_ACTOR = "demo"


def first_plant_site(ws: Workspace) -> str | None:
    """The first plant (by site id) in the warehouse's `sites` table, or None when there is none."""
    rows = ws.sql("SELECT site_id FROM sites WHERE kind = 'plant' ORDER BY site_id LIMIT 1")
    return None if rows.is_empty() else str(rows["site_id"][0])


def create_demo_users(ws: Workspace) -> list[tuple[str, str, tuple[str, ...] | None, str]]:
    """Create the demo users that do not exist yet; returns (name, role, sites, password) of each one created.

    The admin sees every site; the plant manager is a controller limited to the first plant. Idempotent:
    an existing user is left as it is (its password is not reset) and not returned."""
    db = open_app_db(ws)
    wanted: list[tuple[str, str, tuple[str, ...] | None]] = [(ADMIN, "admin", None)]
    plant = first_plant_site(ws)
    if plant is not None:
        wanted.append((PLANT_MANAGER, "controller", (plant,)))
    created = []
    for name, role, sites in wanted:
        if db.get_user(name) is not None:
            continue
        password = new_password()
        user = db.add_user(name, role, password, sites=sites, actor=DEMO_ACTOR)
        created.append((user.name, user.role, user.sites, password))
    return created
