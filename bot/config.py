"""Typed settings from the environment or a .env file, loaded once and validated at start."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from desk.model import Platform
from desk.services import Quotas

PROXY_SCHEMES = ("http://", "https://", "socks4://", "socks5://")
# the webhook path's secret: what Telegram's secret_token allows (A-Z, a-z, 0-9, _ and -), long
# enough not to be guessed, short enough for deploy/nginx/jihad-bot.conf's location (32 to 128)
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,128}")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything the operator sets; see .env.example for meanings and defaults."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    bale_bot_token: SecretStr | None = None
    bale_api_url: AnyHttpUrl = AnyHttpUrl("https://tapi.bale.ai")
    telegram_proxy: SecretStr | None = None  # may carry a password: never logged
    bale_proxy: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///data/frontoffice.db"
    # database connections a process opens at most, as needed, and keeps, PostgreSQL or
    # SQLite (SQLAlchemy's 5 and 10 more closed and reopened connections many times a second
    # at saturation)
    database_pool_size: Annotated[int, Field(ge=3, le=100)] = 20
    redis_url: str | None = None
    routing_rules: Path = Path("routing_rules.yaml")
    directory_file: Path = Path("directory.yaml")
    log_level: str = "INFO"
    telegram_messages_per_second: Annotated[float, Field(gt=0, le=30)] = 30.0
    bale_messages_per_second: Annotated[float, Field(gt=0)] = 5.0
    polling_timeout: Annotated[int, Field(ge=0, le=60)] = 25
    sla_check_seconds: Annotated[float, Field(gt=0)] = 300.0
    flood_per_minute: Annotated[int, Field(ge=0)] = 30
    filings_per_hour: Annotated[int, Field(ge=0)] = 5
    filings_per_day: Annotated[int, Field(ge=0)] = 20
    clarifications_per_hour: Annotated[int, Field(ge=0)] = 20
    failed_lookups_alert: Annotated[int, Field(ge=0)] = 50
    banned_file: Path = Path("banned.yaml")
    staff_admins_seconds: Annotated[float, Field(ge=0)] = 300.0  # groups' administrators cached
    # how long a press or reply waits, asking again, when the messenger does not say who the
    # administrators are (a new administrator's answer is not lost to a passing outage)
    staff_confirm_seconds: Annotated[float, Field(ge=0)] = 60.0
    # webhook mode (`python -m bot webhook`): the secret in /webhook/<platform>/<secret> (and
    # Telegram's secret-token header); WEBHOOK_SECRET serves a platform without its own
    webhook_secret: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    bale_webhook_secret: SecretStr | None = None
    # /healthz and /metrics beside polling (off unless set; webhook mode serves them anyway)
    health_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    health_host: str = "127.0.0.1"
    # how long a start waits for its worker name while another process holds it (one that
    # died lets it go: at once on this host, within half a minute on PostgreSQL elsewhere)
    worker_name_wait: Annotated[float, Field(ge=0)] = 60.0
    # /healthz answers 503 once the oldest update waiting in the inbox is older than this
    health_max_inbox_lag: Annotated[float, Field(gt=0)] = 120.0

    @field_validator("telegram_bot_token", "bale_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        head, sep, tail = text.partition(":")
        if not sep or not head.isdigit() or not tail:
            # never echo the value: it may be a real token with a typo
            raise ValueError("must look like 123456789:ABC... (digits, a colon, the secret)")
        return text

    @field_validator("telegram_proxy", "bale_proxy", mode="before")
    @classmethod
    def _proxy_scheme(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        if not text.startswith(PROXY_SCHEMES):
            # the value may hold a password: name only what is expected
            raise ValueError("must start with http://, https://, socks4:// or socks5://")
        return text

    @field_validator("webhook_secret", "telegram_webhook_secret", "bale_webhook_secret",
                     mode="before")  # fmt: skip
    @classmethod
    def _secret_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        if not WEBHOOK_SECRET.fullmatch(text):
            # never echo the value
            raise ValueError(
                "must be 32 to 128 letters, digits, _ or - (e.g. `openssl rand -hex 32`)"
            )
        return text

    @field_validator("health_port", mode="before")
    @classmethod
    def _no_port(cls, value: object) -> object:
        return None if value in ("", "0", 0) else value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in logging.getLevelNamesMapping():
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @model_validator(mode="after")
    def _directory_beside_rules(self) -> Settings:
        # Unset, the directory is the directory.yaml next to the routing rules: the two files
        # an operator edits live together, wherever ROUTING_RULES points.
        if "directory_file" not in self.model_fields_set:
            self.directory_file = self.routing_rules.parent / "directory.yaml"
        if "banned_file" not in self.model_fields_set:
            self.banned_file = self.routing_rules.parent / "banned.yaml"
        return self

    def alone_without_redis(self) -> bool:
        """On PostgreSQL (the database of several workers) without REDIS_URL: each worker
        would keep its own send rate and flood limit, fine only for one."""
        return not self.redis_url and not self.database_url.startswith("sqlite")

    def quotas(self) -> Quotas:
        """What one citizen account may send before it is asked to wait (0: no limit)."""
        return Quotas(
            filings_per_hour=self.filings_per_hour,
            filings_per_day=self.filings_per_day,
            clarifications_per_hour=self.clarifications_per_hour,
        )

    def tokens(self) -> dict[Platform, str]:
        """The platforms to run, with their tokens."""
        out: dict[Platform, str] = {}
        if self.telegram_bot_token:
            out[Platform.TELEGRAM] = self.telegram_bot_token.get_secret_value()
        if self.bale_bot_token:
            out[Platform.BALE] = self.bale_bot_token.get_secret_value()
        return out

    def proxy(self, platform: Platform) -> str | None:
        """The egress proxy for one platform's API, if any."""
        value = self.telegram_proxy if platform is Platform.TELEGRAM else self.bale_proxy
        return value.get_secret_value() if value is not None else None

    def webhook_secret_for(self, platform: Platform) -> str | None:
        """The secret of a platform's webhook path: its own, else WEBHOOK_SECRET, else None."""
        own = (
            self.telegram_webhook_secret
            if platform is Platform.TELEGRAM
            else self.bale_webhook_secret
        )
        value = own or self.webhook_secret
        return value.get_secret_value() if value is not None else None

    def api_url(self, platform: Platform) -> str:
        """The Bot API server base URL of a platform, without a trailing slash."""
        url = self.telegram_api_url if platform is Platform.TELEGRAM else self.bale_api_url
        return str(url).rstrip("/")


def load_settings(**overrides: object) -> Settings:
    """Load settings; a problem becomes one SettingsError line naming the setting, no values."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"setting {name} is invalid: {first['msg']}") from None
