"""Streaks: consecutive local days with a credited action, kept on the user's row."""
from datetime import timedelta


def streak_after(user, day):
    """The user columns that change when local ``day`` is counted into the streak ({} if none).

    The caller holds the user's row lock and writes them in the credit's UPDATE of that row
    (``points.service.credit(..., user_values=...)``): no statement of their own.
    """
    last = user.streak_last_day
    if last is not None and day <= last:
        # The same day counts once. An earlier day can only come from a clock a moment
        # behind another server's around midnight: it must not break a running streak.
        return {}
    consecutive = last is not None and day - last == timedelta(days=1)
    current = user.streak_current + 1 if consecutive else 1
    return {"streak_current": current, "streak_best": max(user.streak_best, current),
            "streak_last_day": day}
