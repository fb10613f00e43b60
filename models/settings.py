"""The configuration schema (pydantic). Loading the YAML lives in ``sync.config``.

Every model forbids unknown keys so a typo is reported instead of ignored.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

DEFAULT_SOURCE = "default"
"""The name of a deployment's one spreadsheet (until config names several), in logs and metrics."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Model):
    url: SecretStr = SecretStr("")
    """Empty: an embedded PostgreSQL server under ``data_dir``."""
    data_dir: str = "var/pgdata"


class TabNames(_Model):
    reps: str = "Reps"
    monthly_goals: str = "Monthly Goals"
    yearly_goals: str = "Yearly Goals"
    actuals: str = "Actuals"
    summary: str = "Summary"
    leaderboard: str = "Leaderboard"
    errors: str = "Sync Errors"
    team: str = "Team"
    history: str = "History"
    charts: str = "Charts"


class RetrySettings(_Model):
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=20)
    max_total_seconds: float = Field(120.0, gt=0)
    backoff_base_seconds: float = Field(1.0, ge=0)
    backoff_max_seconds: float = Field(32.0, ge=0)


class SheetsSettings(_Model):
    backend: Literal["xlsx", "google"] = "xlsx"
    xlsx_path: str = "var/goals.xlsx"
    spreadsheet_id: str = ""
    summary_spreadsheet_id: str = ""
    credentials_file: str = ""
    """A service-account key; empty: Application Default Credentials (metadata server, workload
    identity federation, gcloud application-default login)."""
    impersonate_service_account: str = ""
    """An email: act as this service account (IAM Credentials API) on top of the credentials above."""
    api_endpoint: str = ""
    iam_endpoint: str = ""
    """The IAM Credentials API root for impersonation (default Google's; a local server in tests)."""
    protect_output_tabs: bool = False
    max_error_rows: int = Field(1000, ge=1, le=100_000)
    """Problems listed on Sync Errors and kept in the sync log per cycle (a total line counts the rest):
    5 columns × 100,001 rows at most, far inside Google's 10 million cells a spreadsheet."""
    tabs: TabNames = TabNames()
    headers: dict[str, str | list[str]] = {}
    """Extra header texts per field, e.g. ``{signups: "Deals Closed"}``."""
    retry: RetrySettings = RetrySettings()
    requests_per_minute: int = Field(60, ge=1, le=100_000)
    """Sheets API requests per service account over any sliding 60 s window, across every
    process that syncs this database (Google's default quota is 60 per minute per user)."""


class SyncSettings(_Model):
    poll_seconds: float = Field(60, ge=1)
    log_retention_days: int = Field(90, ge=0)
    """Days of ``sheets_sync_log`` rows kept (older ones are pruned by the cycle); 0 keeps all."""


class PaceSettings(_Model):
    calendar: Literal["calendar", "business"] = "calendar"
    holidays: list[date] = []
    min_elapsed_percent: Decimal = Field(Decimal(10), ge=0, le=100)
    ahead: Decimal = Decimal("1.10")
    on_track: Decimal = Decimal("0.95")
    behind: Decimal = Decimal("0.80")

    @model_validator(mode="after")
    def _ordered(self) -> PaceSettings:
        if not self.ahead >= self.on_track >= self.behind >= 0:
            raise ValueError("goals.pace thresholds must satisfy ahead >= on_track >= behind >= 0")
        return self


class Tier(_Model):
    name: str
    threshold: Decimal = Field(ge=0)
    amount: Decimal = Field(Decimal(0), ge=0)


DEFAULT_TIERS: tuple[Tier, ...] = tuple(
    Tier(name=name, threshold=Decimal(threshold), amount=Decimal(amount))
    for name, threshold, amount in [
        ("Rookie", 0, 0),
        ("Bronze", 6, 100),
        ("Silver", 11, 250),
        ("Gold", 15, 500),
        ("Platinum", 20, 750),
        ("Diamond", 25, 1000),
        ("Elite", 30, 1500),
    ]
)


class BonusSettings(_Model):
    basis: Literal["signups", "percent"] = "signups"
    tiers: tuple[Tier, ...] = DEFAULT_TIERS

    @field_validator("tiers")
    @classmethod
    def _seven_ascending(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if len(tiers) != 7:
            raise ValueError(f"exactly seven tiers (0-6) are needed, got {len(tiers)}")
        if tiers[0].threshold != 0:
            raise ValueError("tier 0 must have threshold 0")
        for lower, upper in itertools.pairwise(tiers):
            if upper.threshold <= lower.threshold:
                raise ValueError("tier thresholds must strictly increase")
        return tiers


class GoalsSettings(_Model):
    deadline_day: int = Field(6, ge=1, le=28)
    lock_after_deadline: bool = False
    pace: PaceSettings = PaceSettings()
    bonus: BonusSettings = BonusSettings()
    streak_milestones: tuple[int, ...] = (3, 6, 12)


def _check_time_of_day(text: str) -> str:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
            and len(minutes) == 2):
        raise ValueError(f"{text!r} is not a time of day like 09:00")
    return text


class JobsSettings(_Model):
    reminder_times: tuple[str, ...] = ("09:00", "13:00", "17:00")

    @field_validator("reminder_times")
    @classmethod
    def _hh_mm(cls, times: tuple[str, ...]) -> tuple[str, ...]:
        for text in times:
            _check_time_of_day(text)
        return tuple(sorted(times))


WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestSettings(_Model):
    """When the weekly digest goes out (company time zone)."""

    enabled: bool = True
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    time: str = "08:00"

    @field_validator("weekday", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("time")
    @classmethod
    def _hh_mm(cls, text: str) -> str:
        return _check_time_of_day(text)


class NotificationSettings(_Model):
    email_url: SecretStr = SecretStr("")
    team_urls: tuple[SecretStr, ...] | dict[str, tuple[SecretStr, ...]] = ()
    """Team channels: a list (every team's posts go to each URL) or a map team → its URLs."""
    team_managers: dict[str, tuple[str, ...]] = {}
    """Team → manager emails, for reps whose Manager Email is blank."""
    digest: DigestSettings = DigestSettings()
    pace_alerts: bool = False
    """Email a rep who turns critical (at most once a week); their manager reads it in the digest."""
    max_age_days: int = Field(7, ge=0, le=366)
    """Only achievements earned within this many days are announced (turning notifications on
    never floods people with old news); 0 = only today's."""

    @field_validator("team_urls", mode="before")
    @classmethod
    def _urls_of_a_team(cls, value: object) -> object:
        if isinstance(value, dict):  # one URL for a team may be written without a list
            return {team: [urls] if isinstance(urls, str) else urls for team, urls in value.items()}
        return value

    @field_validator("team_managers", mode="before")
    @classmethod
    def _managers_of_a_team(cls, value: object) -> object:
        if isinstance(value, dict):
            return {team: [emails] if isinstance(emails, str) else emails for team, emails in value.items()}
        return value

    @field_validator("team_managers")
    @classmethod
    def _emails(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        cleaned = {}
        for team, emails in value.items():
            for email in emails:
                if "@" not in email or " " in email.strip():
                    raise ValueError(f"{email!r} (team {team}) is not an email address")
            cleaned[team] = tuple(email.strip().lower() for email in emails)
        return cleaned

    def all_team_urls(self) -> list[str]:
        """Every team channel URL (a list, or every team's of a map), without duplicates."""
        urls = self.team_urls if isinstance(self.team_urls, tuple) else \
            tuple(url for team_urls in self.team_urls.values() for url in team_urls)
        return list(dict.fromkeys(url.get_secret_value().strip() for url in urls if url.get_secret_value().strip()))

    def urls_for_team(self, team: str) -> list[str]:
        """The channels a team's posts go to: every URL of a list, or the team's own of a map."""
        if isinstance(self.team_urls, tuple):
            return self.all_team_urls()
        wanted = team.strip().casefold()
        return [url.get_secret_value().strip() for name, urls in self.team_urls.items()
                if name.strip().casefold() == wanted for url in urls if url.get_secret_value().strip()]

    def managers_of_team(self, team: str) -> tuple[str, ...]:
        """``team_managers`` of a team (names compared case-insensitively)."""
        wanted = team.strip().casefold()
        return tuple(email for name, emails in self.team_managers.items() if name.strip().casefold() == wanted
                     for email in emails)


class LoggingSettings(_Model):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    json_format: bool = Field(False, alias="json")
    """``json: true``, the older spelling of ``format: json``; either one switches JSON on."""

    @property
    def json_lines(self) -> bool:
        """One JSON object per line (``format: json`` or ``json: true``)."""
        return self.json_format or self.format == "json"


class MetricsSettings(_Model):
    port: int | None = Field(None, ge=1, le=65535)
    """Serve ``/metrics`` and ``/healthz`` on this port (``run --metrics-port`` overrides); none: off."""
    host: str = "127.0.0.1"
    """The address to listen on; ``0.0.0.0`` lets a Prometheus server on another machine scrape."""


SOURCE_SHEETS_KEYS = ("backend", "xlsx_path", "spreadsheet_id", "summary_spreadsheet_id", "credentials_file", "tabs")
"""The ``sheets`` keys a ``sources:`` entry may set for itself (the rest comes from ``sheets:``)."""
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class SourceSettings(_Model):
    """One entry of ``sources:``: a spreadsheet with its own reps, time zone, goals and poll interval.

    Keys left out come from the global ``sheets:``, ``timezone``, ``goals`` and ``sync:`` blocks;
    ``goals`` is merged key by key (``goals: {deadline_day: 3}`` keeps the global pace and tiers).
    """

    name: str
    backend: Literal["xlsx", "google"] | None = None
    xlsx_path: str | None = None
    spreadsheet_id: str | None = None
    summary_spreadsheet_id: str | None = None
    credentials_file: str | None = None
    tabs: TabNames | None = None
    timezone: str | None = None
    goals: dict[str, Any] | None = None
    poll_seconds: float | None = Field(None, ge=1)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _SOURCE_NAME.match(name):
            raise ValueError(f"source name {name!r} must be lowercase letters, digits and underscores, "
                             "starting with a letter (at most 40 characters), e.g. emea or branch_2")
        return name

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return None if name is None else _check_zone(name)


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use a name like Europe/Berlin)") from None
    return name


def _merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        merged[key] = _merged(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return merged


@dataclass(frozen=True)
class Source:
    """A spreadsheet the service syncs, with the settings in effect for it.

    ``schema`` is its PostgreSQL schema: ``public`` for ``default`` (so a deployment that
    had one ``sheets:`` block keeps its data), ``source_<name>`` for every other source.
    """

    name: str
    settings: Settings

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding this source's tables, triggers and views."""
        return schema_for(self.name)


def schema_for(name: str) -> str:
    """The schema of source ``name`` (``public`` for the default source)."""
    return "public" if name == DEFAULT_SOURCE else f"source_{name}"


class Settings(_Model):
    timezone: str = "UTC"
    database: DatabaseSettings = DatabaseSettings()
    sheets: SheetsSettings = SheetsSettings()
    sync: SyncSettings = SyncSettings()
    goals: GoalsSettings = GoalsSettings()
    jobs: JobsSettings = JobsSettings()
    notifications: NotificationSettings = NotificationSettings()
    logging: LoggingSettings = LoggingSettings()
    metrics: MetricsSettings = MetricsSettings()
    sources: tuple[SourceSettings, ...] = ()
    """Several spreadsheets; empty: the ``sheets:`` block is the one source ``default``."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_zone(name)

    @model_validator(mode="after")
    def _sources_complete(self) -> Settings:
        names = [entry.name for entry in self.sources]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"sources: each name may appear once; repeated: {', '.join(repeated)}")
        for source in self.source_list():
            sheets = source.settings.sheets
            if sheets.backend == "google" and not sheets.spreadsheet_id:
                where = "sheets" if not self.sources else f"sources ({source.name})"
                raise ValueError(f"{where}: spreadsheet_id is required when the backend is google")
        return self

    def source_list(self) -> list[Source]:
        """Every source with its effective settings (the ``sheets:`` block alone is ``default``)."""
        if not self.sources:
            return [Source(DEFAULT_SOURCE, self)]
        return [Source(entry.name, self._for(entry)) for entry in self.sources]

    def _for(self, entry: SourceSettings) -> Settings:
        sheets = {key: getattr(entry, key) for key in SOURCE_SHEETS_KEYS if getattr(entry, key) is not None}
        goals = self.goals
        if entry.goals:
            try:
                goals = GoalsSettings.model_validate(_merged(self.goals.model_dump(), entry.goals))
            except ValueError as error:
                raise ValueError(f"sources ({entry.name}).goals: {error}") from None
        return self.model_copy(update={
            "timezone": entry.timezone or self.timezone,
            "sheets": self.sheets.model_copy(update=sheets),
            "sync": self.sync.model_copy(update={"poll_seconds": entry.poll_seconds or self.sync.poll_seconds}),
            "goals": goals,
            "sources": (),
        })

    @property
    def tz(self) -> ZoneInfo:
        """The company time zone."""
        return ZoneInfo(self.timezone)
