"""The text of reminders and announcements: short, plain, and saying what to do.

Pure functions: the data and the config come in, a subject and a body go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from models.job_queries import Announcement
from models.rules.tiers import tier_name
from models.settings import Settings

MAX_TEAM_LINES = 25


@dataclass(frozen=True)
class Message:
    """A subject line and a plain-text body."""

    subject: str
    body: str


def _month_name(year: int, month: int) -> str:
    return date(year, month, 1).strftime("%B %Y")


def _day(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B}"


def _moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %H:%M} {local.tzname()}"


def _number(value: Decimal | None) -> str:
    if value is None:
        return "-"
    normalized = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return f"{normalized:,}"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}%"


def _where(settings: Settings) -> str:
    tab = settings.sheets.tabs.monthly_goals
    sheets = settings.sheets
    if sheets.backend == "google" and sheets.spreadsheet_id:
        return f"the '{tab}' tab of https://docs.google.com/spreadsheets/d/{sheets.spreadsheet_id}"
    return f"the '{tab}' tab"


def reminder_message(kind: str, *, name: str, year: int, month: int, deadline: datetime, today: date,
                     settings: Settings) -> Message:
    """The email for one goal-deadline reminder sent on ``today`` (local date).

    The wording follows the days really left on ``today`` (a reminder sent late after
    downtime never claims more time than there is); ``goal_overdue`` always reads overdue.
    """
    tz = settings.tz
    period = _month_name(year, month)
    last_day = deadline.astimezone(tz).date() - timedelta(days=1)  # the deadline is the next day's 00:00
    where = _where(settings)
    ends = f"deadline: {_moment(deadline, tz)}"
    greeting = f"Hi {name},\n\n" if name else ""
    days = (last_day - today).days
    if kind == "goal_overdue" or days < 0:
        subject = f"Overdue: your {period} goals are not set"
        text = (f"The deadline for your {period} goals passed at the end of {_day(last_day)} ({ends}) "
                f"and they are still not set. Please enter your {period} goals in {where} now.")
    elif days == 0:
        subject = f"Last day to set your {period} goals"
        text = f"Please enter your {period} goals in {where} by the end of today, {_day(last_day)} ({ends})."
    else:
        subject = f"{days} day{'s' if days != 1 else ''} left to set your {period} goals"
        text = f"Please enter your {period} goals in {where} by the end of {_day(last_day)} ({ends})."
    footer = "\n\nYou get this because your goals for the month are not set yet; it stops once they are."
    return Message(subject, f"{greeting}{text}{footer}")


def _achievement_line(item: Announcement, settings: Settings, *, own: bool) -> str:
    """One sentence about one achievement; ``own`` = addressed to the rep ("your")."""
    who = "your" if own else "the"
    period = _month_name(item.year, item.month) if item.month else str(item.year)
    kind = item.achievement_type
    progress = f"{_number(item.actual_value)} of {_number(item.goal_value)}"
    if kind in ("monthly_signup_goal", "yearly_signup_goal"):
        scope = "yearly " if kind.startswith("yearly") else ""
        return f"reached {who} {period} {scope}signup goal: {progress} signups ({_percent(item.percent_achieved)})"
    if kind in ("monthly_revenue_goal", "yearly_revenue_goal"):
        scope = "yearly " if kind.startswith("yearly") else ""
        money = f"{_money(item.actual_value)} of {_money(item.goal_value)}"
        return f"reached {who} {period} {scope}revenue goal: {money} ({_percent(item.percent_achieved)})"
    if kind == "bonus_tier_unlocked":
        tier = item.bonus_tier or 0
        unlocked = f"unlocked bonus tier {tier} ({tier_name(tier, settings.goals.bonus.tiers)}) for {period}"
        goal = item.bonus_tier_goal
        if goal is not None and tier < goal:  # the bonus is paid from the goal tier (the Summary shows 0)
            return f"{unlocked}: the bonus pays from tier {goal}, {'your' if own else 'their'} Bonus Tier Goal"
        return f"{unlocked}: {_money(item.bonus_amount)} bonus"
    if kind == "streak_milestone":
        return f"met every goal {item.milestone} months in a row (streak reached in {period})"
    if kind == "perfect_month":
        return f"had a perfect {period}: goals set on time and every goal met"
    return f"earned {kind.replace('_', ' ')} ({period})"


def achievement_message(name: str, items: Sequence[Announcement], settings: Settings) -> Message:
    """The congratulation email for one rep's new achievements (one email for all of them)."""
    first = first_name(name)
    if len(items) == 1:
        subject = f"Congratulations, {first}: you {_achievement_line(items[0], settings, own=True).split(':')[0]}"
    else:
        subject = f"Congratulations, {first}: {len(items)} new achievements"
    lines = [f"- You {_achievement_line(item, settings, own=True)}." for item in items]
    tabs = settings.sheets.tabs
    body = (f"Hi {first},\n\nWell done!\n" + "\n".join(lines)
            + f"\n\nSee the '{tabs.summary}' and '{tabs.leaderboard}' tabs for where you stand.")
    return Message(subject, body)


def _capped_lines(lines: Sequence[str], where: str = "") -> list[str]:
    """A team post's lines: the first ``MAX_TEAM_LINES``, then one line counting the rest
    (``where`` says where to see them), so a month of catching up stays one readable post."""
    shown = list(lines[:MAX_TEAM_LINES])
    if len(lines) > len(shown):
        shown.append(f"- … and {len(lines) - len(shown)} more{where}")
    return shown


def _achievements(count: int, kind: str = "") -> str:
    return f"{count} {kind}achievement{'s' if count != 1 else ''}"


def first_name(name: str) -> str:
    """How a message greets a rep: the first word of the name, or "there" for a blank name."""
    return name.split(maxsplit=1)[0] if name.strip() else "there"


def team_message(items: Sequence[Announcement], settings: Settings) -> Message:
    """One post for the team channel listing new achievements (capped, with a count of the rest)."""
    lines = [f"- {item.rep_name} {_achievement_line(item, settings, own=False)}" for item in items]
    where = f" (see the '{settings.sheets.tabs.leaderboard}' tab)"
    return Message(_achievements(len(items), "new "), "\n".join(_capped_lines(lines, where)))


def _withdrawn(item: Announcement, settings: Settings, *, own: bool) -> str:
    reason = f": {item.revoked_reason}" if item.revoked_reason else ""
    return f"{_achievement_line(item, settings, own=own)}: withdrawn, the sheet was corrected{reason}"


def correction_message(name: str, items: Sequence[Announcement], settings: Settings) -> Message:
    """The email that takes back achievements announced to a rep before a correction removed them."""
    first = first_name(name)
    subject = f"Correction, {first}: {_achievements(len(items))} withdrawn"
    lines = [f"- We said you {_withdrawn(item, settings, own=True)}." for item in items]
    body = (f"Hi {first},\n\nA correction to the sheet changed what we announced earlier:\n" + "\n".join(lines)
            + f"\n\nSee the '{settings.sheets.tabs.summary}' tab for where you stand now.")
    return Message(subject, body)


def team_correction_message(items: Sequence[Announcement], settings: Settings) -> Message:
    """One post for the team channel taking back achievements announced there before a correction."""
    lines = [f"- {item.rep_name} {_withdrawn(item, settings, own=False)}" for item in items]
    return Message(f"Correction: {_achievements(len(items))} withdrawn", "\n".join(_capped_lines(lines)))
