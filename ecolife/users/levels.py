"""Levels from lifetime points (never from the spendable balance)."""
from flask import current_app


def level_for(lifetime_points: int) -> dict:
    """``{number, name, points_to_next}``; points_to_next is None at the top level."""
    levels = current_app.config["LEVELS"]
    number = max(i for i, (threshold, _) in enumerate(levels) if lifetime_points >= threshold)
    following = levels[number + 1][0] if number + 1 < len(levels) else None
    return {
        "number": number + 1,
        "name": levels[number][1],
        "points_to_next": None if following is None else following - lifetime_points,
    }
