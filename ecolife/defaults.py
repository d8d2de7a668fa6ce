"""Reference data every programme starts with: earning rules and badges.

Plain data (no models), so the initial migration and the test fixtures share it.
"""

DEFAULT_ACTIONS = (
    # slug, name, name_th, points, impact_unit, impact_amount, cooldown_minutes, daily_limit
    ("no_plastic_bag", "No plastic bag", "ไม่รับถุงพลาสติก", 5, "plastic_bag", 1, 15, 5),
    ("no_straw", "No straw", "ไม่รับหลอด", 2, "straw", 1, 15, 5),
    ("own_cup", "Brought my own cup", "นำแก้วมาเอง", 5, "plastic_cup", 1, 15, 5),
    ("no_foam", "No foam box", "ไม่รับกล่องโฟม", 5, "foam_box", 1, 15, 5),
    ("refill", "Refill instead of a new bottle", "เติมแทนซื้อขวดใหม่", 5, "plastic_bottle", 1, 60, 3),
)

DEFAULT_BADGES = (
    # slug, name, description, criteria
    ("first_scan", "First step", "Your first credited scan.", {"type": "scan_count", "threshold": 1}),
    ("scans_10", "Regular", "10 credited scans.", {"type": "scan_count", "threshold": 10}),
    ("scans_100", "Habit", "100 credited scans.", {"type": "scan_count", "threshold": 100}),
    ("shops_5", "Explorer", "Scanned at 5 different shops.", {"type": "distinct_shops", "threshold": 5}),
    ("streak_7", "One week", "7 days in a row.", {"type": "streak_days", "threshold": 7}),
    ("streak_30", "One month", "30 days in a row.", {"type": "streak_days", "threshold": 30}),
    (
        "bags_50",
        "Bag refuser",
        "50 plastic bags avoided.",
        {"type": "impact", "unit": "plastic_bag", "threshold": 50},
    ),
    (
        "foam_20",
        "Foam free",
        "20 foam boxes avoided.",
        {"type": "impact", "unit": "foam_box", "threshold": 20},
    ),
)


def action_rows():
    keys = ("slug", "name", "name_th", "points", "impact_unit", "impact_amount",
            "cooldown_minutes", "daily_limit")
    return [dict(zip(keys, row), active=True) for row in DEFAULT_ACTIONS]


def badge_rows():
    keys = ("slug", "name", "description", "criteria")
    return [dict(zip(keys, row), active=True) for row in DEFAULT_BADGES]
