"""Streaks, badges and impact, updated in the same transaction as the credit that earned them."""
from ecolife.badges.service import award_due_badges
from ecolife.gamification.streaks import streak_after
from ecolife.impact.service import add_scan_impact

__all__ = ["on_credit", "streak_after"]


def on_credit(user, scan, now):
    """Count a credited scan into badges and impact; returns the new [{slug, name}].

    Called by the scan service right after the credit, with ``user``'s row locked (the
    lock of ``points.service.lock_user``), the scan inserted and the streak already advanced by the
    credit's own UPDATE (``streak_after``); the caller commits.
    """
    new_badges = award_due_badges(user, scan, now)
    # Last: the village's impact row stays locked until the commit, so take it late.
    add_scan_impact(user.community_id, scan.impact_unit, scan.impact_amount)
    return new_badges
