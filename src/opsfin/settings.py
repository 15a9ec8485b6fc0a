"""Workspace settings: `opsfin.yaml`, overridable by `OPSFIN_*` environment variables.

Nested keys use a double underscore: `OPSFIN_WAREHOUSE__BACKEND=spark` overrides
`warehouse: {backend: ...}`; `OPSFIN_BASE_CURRENCY=USD` overrides `base_currency`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import UserError
from .yamlfile import read_yaml_mapping

SETTINGS_FILE = "opsfin.yaml"


class WarehouseSettings(BaseModel):
    backend: Literal["duckdb", "spark"] = "duckdb"
    path: str = "warehouse.duckdb"
    url: str | None = Field(default=None, description="an Ibis connection URL for another backend")


class AppDbSettings(BaseModel):
    url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite app.db in the workspace")


class WebSettings(BaseModel):
    secure_cookies: bool = Field(default=False, description="mark the session cookie Secure (serve behind HTTPS)")
    session_hours: int = Field(default=12, ge=1, description="how long a login lasts")
    login_attempts_per_minute: int = Field(default=5, ge=1, description="failed logins allowed per user and client")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "addresses or networks (10.0.0.5, 10.0.0.0/24) of the reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed; empty: nobody's, not even 127.0.0.1's (docs/security.md)"
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return [p.strip() for p in proxies]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSFIN_", env_nested_delimiter="__", extra="ignore")

    company: str = "My company"
    base_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    timezone_note: str = "dates and timestamps are naive, in each site's local time"
    warehouse: WarehouseSettings = WarehouseSettings()
    app_db: AppDbSettings = AppDbSettings()
    web: WebSettings = WebSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first, then the values read from opsfin.yaml (passed as init kwargs).
        return (env_settings, init_settings)


def load_settings(workspace: Path) -> Settings:
    """Read `opsfin.yaml` of a workspace and apply `OPSFIN_*` overrides."""
    path = workspace / SETTINGS_FILE
    data: dict[str, Any] = {}
    if path.exists():
        data = read_yaml_mapping(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{path}: invalid settings: {problems}") from None


def default_settings_yaml(company: str = "My company", base_currency: str = "EUR") -> str:
    return (
        "# opsfin workspace settings. Any key can be overridden by an OPSFIN_* environment variable,\n"
        "# nested keys with a double underscore (OPSFIN_WAREHOUSE__BACKEND=spark).\n"
        f"company: {company}\n"
        f"base_currency: {base_currency}\n"
        "warehouse:\n"
        "  backend: duckdb          # or spark (needs the `spark` extra)\n"
        "  path: warehouse.duckdb\n"
        "app_db:\n"
        "  url: null                # default: sqlite:///app.db in this folder\n"
    )
