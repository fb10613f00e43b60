"""The rules' names agree with the database's check constraints and columns."""

import pytest

from models import tables
from models.rules.achievements import ACHIEVEMENT_TYPES, Achievement
from models.rules.deadlines import REMINDER_TYPES
from models.rules.pace import JUDGED_INDICATORS


def test_type_names_match_schema():
    assert set(ACHIEVEMENT_TYPES) == set(tables.ACHIEVEMENT_TYPES)
    assert set(REMINDER_TYPES) == set(tables.REMINDER_TYPES)
    assert set(JUDGED_INDICATORS) == set(tables.PACE_INDICATORS)


def test_achievement_row_has_real_columns():
    from datetime import date

    row = Achievement(1, "perfect_month", 2026, 11, date(2026, 11, 30)).as_row()
    columns = set(tables.GoalAchievement.__table__.columns.keys())
    assert set(row) <= columns


@pytest.mark.process
def test_rules_import_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import models.rules.achievements, models.rules.deadlines, models.rules.pace, models.rules.periods\n"
        "import models.rules.progress, models.rules.ranking, models.rules.sparkline, models.rules.tiers\n"
        "heavy = {'sqlalchemy', 'pandas', 'gspread', 'openpyxl', 'psycopg'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
