"""What a badge asks for: a small closed set of criteria types, stored as JSON on the badge.

``{"type": "scan_count", "threshold": 10}``         credited scans
``{"type": "distinct_shops", "threshold": 5}``      different shops scanned at
``{"type": "streak_days", "threshold": 7}``         current streak, in local days
``{"type": "impact", "unit": "plastic_bag", "threshold": 50}``  total avoided of one unit
"""
import re

FIELDS = {
    "scan_count": {"threshold"},
    "distinct_shops": {"threshold"},
    "streak_days": {"threshold"},
    "impact": {"unit", "threshold"},
}
TYPES = tuple(FIELDS)
UNIT = re.compile(r"[a-z][a-z0-9_]{1,39}")  # an impact unit, as actions take it
MAX_THRESHOLD = 1_000_000

DESCRIPTION = (
    "One of: {type: scan_count|distinct_shops|streak_days, threshold} or "
    "{type: impact, unit, threshold}; threshold an integer 1..1000000, unit like "
    "`plastic_bag` (an action's impact_unit)."
)


def problems(criteria):
    """Why ``criteria`` is not a valid criteria object: a list of messages (empty if valid)."""
    if not isinstance(criteria, dict):
        return ["Must be an object."]
    kind = criteria.get("type")
    if kind not in FIELDS:
        return [f"type must be one of: {', '.join(TYPES)}."]
    found = []
    extra = set(criteria) - FIELDS[kind] - {"type"}
    if extra:
        found.append(f"Unknown field(s) for {kind}: {', '.join(sorted(extra))}.")
    threshold = criteria.get("threshold")
    # bool is an int in Python; true is not a threshold
    if type(threshold) is not int or not 1 <= threshold <= MAX_THRESHOLD:
        found.append(f"threshold must be an integer from 1 to {MAX_THRESHOLD}.")
    if kind == "impact":
        unit = criteria.get("unit")
        if not isinstance(unit, str) or not UNIT.fullmatch(unit):
            found.append("unit must be a snake_case impact unit, e.g. plastic_bag.")
    return found


def counter_of(criteria):
    """What a criteria compares with: 'scan_count', ... or ('impact', unit); None if invalid."""
    if problems(criteria):
        return None  # a hand-edited row must not break scans: it is simply never met
    if criteria["type"] == "impact":
        return ("impact", criteria["unit"])
    return criteria["type"]


def is_met(criteria, counters):
    """Whether ``counters`` (counter -> value) reach the criteria's threshold."""
    counter = counter_of(criteria)
    return counter is not None and counters.get(counter, 0) >= criteria["threshold"]
