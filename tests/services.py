"""Services some tests need (PostgreSQL, Chromium, shared real files).

On a laptop without them such tests skip with a reason; under OPSFIN_REQUIRE_ALL=1 (CI) they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def required() -> bool:
    return os.environ.get("OPSFIN_REQUIRE_ALL") == "1"


def missing(reason: str) -> None:
    """Skip, or fail under OPSFIN_REQUIRE_ALL=1, because a service or file is missing."""
    if required():
        pytest.fail(f"{reason} (OPSFIN_REQUIRE_ALL=1)")
    pytest.skip(reason)


def postgres_url() -> str:
    """The SQLAlchemy URL of an empty-able PostgreSQL test database (OPSFIN_TEST_PG_URL), or skip/fail."""
    url = os.environ.get("OPSFIN_TEST_PG_URL")
    if not url:
        missing("PostgreSQL tests need OPSFIN_TEST_PG_URL (set by .ci/run)")
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection problem means the service is missing
        missing(f"PostgreSQL at OPSFIN_TEST_PG_URL is not reachable: {exc}")
    return url


def chromium_path() -> str:
    """The Chromium executable for Playwright (OPSFIN_CHROMIUM, else /usr/bin/chromium), or skip/fail."""
    path = os.environ.get("OPSFIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        missing(f"browser tests need Chromium at {path} (apt-get install chromium)")
    return path


@contextmanager
def headless_chromium():
    """A headless Chromium through Playwright (skip/fail without it, as `chromium_path`), closed after."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip/fail when it is not there."""
    path = SHARED_DATA / relative
    if not path.exists():
        missing(f"real data missing: {path}")
    return path


@contextmanager
def postgres_schema_url(prefix: str = "opsfin_test"):
    """A URL on the PostgreSQL test database whose search_path is a fresh schema, dropped afterwards,
    so each user runs alone and leaves nothing behind (skip/fail without PostgreSQL, as `postgres_url`)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
