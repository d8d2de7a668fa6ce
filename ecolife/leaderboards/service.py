"""Leaderboards: publish credits to Redis after commit; read boards for the API."""


def publish_credit(user_id, points, at, community_ids):
    """Add an earn credit to every board (after the DB commit; Redis failures are logged).

    Placeholder until the leaderboard API work lands: does nothing.
    """
