"""Streaks and badges, updated in the same transaction as the credit that earned them."""


def on_credit(user, scan, now):
    """Update the user's streak and award badges this scan earned; returns [{slug, name}].

    Placeholder until the gamification work lands: awards nothing.
    """
    return []
