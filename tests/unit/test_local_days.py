"""The date presets are the front desk's local days, not UTC days."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import time_zone

from msgterm.timefmt import local_day_start


@pytest.fixture
def new_york(monkeypatch):
    with time_zone(monkeypatch, "America/New_York"):
        yield


def test_today_at_ten_pm_in_new_york_is_new_yorks_day(new_york):
    # 03:00 UTC on Dec 3 is 22:00 on Dec 2 in New York (UTC-5): today began Dec 2, 05:00 UTC.
    assert local_day_start(datetime(2026, 12, 3, 3, 0)) == datetime(2026, 12, 2, 5, 0)


def test_last_seven_days_are_today_and_six_before_across_a_clock_change(new_york):
    # Nov 5, 2026, 15:00 UTC is 10:00 EST; 6 days before is Oct 30, still on daylight time (UTC-4).
    assert local_day_start(datetime(2026, 11, 5, 15, 0), 6) == datetime(2026, 10, 30, 4, 0)
