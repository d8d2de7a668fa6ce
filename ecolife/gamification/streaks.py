"""Streaks: consecutive local days with a credited action, kept on the user's row."""
from datetime import timedelta


def advance_streak(user, day):
    """Count local ``day`` into the streak; the caller holds the user's row lock."""
    last = user.streak_last_day
    if last is not None and day <= last:
        # The same day counts once. An earlier day can only come from a clock a moment
        # behind another server's around midnight: it must not break a running streak.
        return
    consecutive = last is not None and day - last == timedelta(days=1)
    user.streak_current = user.streak_current + 1 if consecutive else 1
    user.streak_best = max(user.streak_best, user.streak_current)
    user.streak_last_day = day
