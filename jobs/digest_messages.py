"""The weekly digest's text: per team, the standings, who is behind or critical and by how much,
who has not set next month's goals (from the 25th), the week's achievements and pace alerts.

Pure: the standings and the week's records come in, one ``Message`` goes out per recipient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from jobs.messages import Message, _achievement_line, _money, _number, _percent
from models.job_queries import Announcement, PaceAlert
from models.rules.teams import TeamStanding, rep_pace, team_of
from models.settings import Settings
from models.values import RepStanding

NEXT_MONTH_FROM_DAY = 25
"""From this day of the month the digest lists who has not set next month's goals."""
PACE_WORDS = {"ahead": "ahead", "on_track": "on track", "behind": "behind", "critical": "critical",
              "too_early": "too early to tell"}


@dataclass(frozen=True)
class DigestData:
    """Everything one digest moment shows, for every team."""

    today: date
    """The digest's local date."""
    expected: Fraction
    standings: tuple[RepStanding, ...]
    teams: tuple[TeamStanding, ...]
    next_month_set: frozenset[int] | None
    """Reps who set next month's goals; None before the 25th (not asked yet)."""
    achievements: tuple[Announcement, ...]
    alerts: tuple[PaceAlert, ...]


def _expected_amount(goal: Decimal | int | None, expected: Fraction) -> Decimal | None:
    if not goal:
        return None
    return (Decimal(goal) * expected.numerator / expected.denominator).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _gap_line(rep: RepStanding, indicator: str, expected: Fraction) -> str:
    """``Bo: critical, 3 of 20 signups (15%), 3.5 behind the 6.5 expected by now``."""
    if rep.signup_goal:
        target = _expected_amount(rep.signup_goal, expected) or Decimal(0)
        gap = (target - rep.signups).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return (f"{rep.name}: {PACE_WORDS[indicator]}, {_number(rep.signups)} of {rep.signup_goal} signups "
                f"({_percent(rep.signup_pct)}), {_number(gap)} behind the {_number(target)} expected by now")
    target = _expected_amount(rep.revenue_goal, expected) or Decimal(0)
    return (f"{rep.name}: {PACE_WORDS[indicator]}, {_money(rep.revenue)} of {_money(rep.revenue_goal)} revenue "
            f"({_percent(rep.revenue_pct)}), {_money(target - rep.revenue)} behind the {_money(target)} "
            "expected by now")


def team_section(team: TeamStanding, data: DigestData, settings: Settings, *, ranked_of: int) -> str:
    """One team's part of a digest."""
    members = sorted((s for s in data.standings if team_of(s) == team.team),
                     key=lambda s: (-(s.signup_pct or Decimal(-1)), s.name.casefold()))
    place = f"rank {team.rank} of {ranked_of}, " if team.rank is not None else ""
    goal = f" of {team.signup_goal}" if team.signup_goal else ""
    indicator = team.pace.indicator
    lines = [f"{team.team} ({place}{team.members} rep{'s' if team.members != 1 else ''}): "
             f"{_number(team.signups)}{goal} signups ({_percent(team.signup_pct)})"
             + (f", pace {PACE_WORDS[indicator]}" if indicator else "")]
    lines.append("Standings:")
    paces = {m.rep_id: rep_pace(m, expected=data.expected, settings=settings.goals.pace) for m in members}
    for position, member in enumerate(members, start=1):
        result = paces[member.rep_id]
        word = PACE_WORDS.get(result.indicator, "") if result is not None and result.indicator else "no goal"
        goal_text = f" of {member.signup_goal}" if member.signup_goal else ""
        lines.append(f"  {position}. {member.name}: {_number(member.signups)}{goal_text} signups "
                     f"({_percent(member.signup_pct)}), {word}")
    behind = [(m, p.indicator) for m in members if (p := paces[m.rep_id]) is not None
              and p.indicator in ("behind", "critical")]
    lines.append("Behind or critical:" if behind else "Behind or critical: nobody")
    lines += [f"  - {_gap_line(m, indicator or '', data.expected)}" for m, indicator in behind]
    if data.next_month_set is not None:
        missing = [m.name for m in members if m.rep_id not in data.next_month_set]
        month = date(data.today.year + data.today.month // 12, data.today.month % 12 + 1, 1)
        lines.append(f"Not yet set their {month:%B} goals: {', '.join(missing) if missing else 'nobody'}")
    ids = {m.rep_id for m in members}
    achieved = [a for a in data.achievements if a.rep_id in ids]
    lines.append("Achievements this week:" if achieved else "Achievements this week: none")
    lines += [f"  - {a.rep_name} {_achievement_line(a, settings, own=False)}" for a in achieved]
    alerts = [a for a in data.alerts if a.rep_id in ids]
    if alerts:
        lines.append("Pace alerts this week:")
        lines += [f"  - {a.rep_name} turned critical on {a.detected_at.astimezone(settings.tz):%A %-d %B}: "
                  f"{_percent(a.signup_pct)} of the signup goal with {_percent(a.expected_pct)} of the month gone"
                  for a in alerts]
    return "\n".join(lines)


def digest_message(team_names: Sequence[str], data: DigestData, settings: Settings) -> Message:
    """The digest of ``team_names`` (in the Team tab's order)."""
    wanted = {name.casefold() for name in team_names}
    teams = [team for team in data.teams if team.team.casefold() in wanted]
    ranked = sum(1 for team in data.teams if team.rank is not None)
    gone = _percent(Decimal(data.expected.numerator * 100) / data.expected.denominator)
    intro = (f"Hello,\n\nWhere your {'team stands' if len(teams) == 1 else 'teams stand'} on "
             f"{data.today:%A %-d %B %Y} ({gone} of the month gone):")
    sections = [team_section(team, data, settings, ranked_of=ranked) for team in teams]
    tabs = settings.sheets.tabs
    footer = f"The '{tabs.team}', '{tabs.summary}' and '{tabs.charts}' tabs have the details."
    names = ", ".join(team.team for team in teams)
    subject = f"Weekly digest {data.today:%-d %B}: {names}"
    return Message(subject, "\n\n".join([intro, *sections, footer]))
