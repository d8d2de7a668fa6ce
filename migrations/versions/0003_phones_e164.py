"""phones as E.164: one number, one account, however it was typed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:30:00

Phones used to be stored with only their separators removed, so 0812345678 and
+66812345678 were two accounts. They are now stored in E.164 (+66812345678); this rewrites
the ones already stored. Numbers without a country code are read in PHONE_REGION (default
TH), as the service reads them. A number already in E.164 keeps its account; of the rows
that become one number, the oldest account (lowest id) gets it. A number that is not valid,
or whose E.164 form another account already has (the duplicate this fixes), is left as it
was, and the ids of those rows are logged for an operator to settle.
"""
import logging

import phonenumbers
import sqlalchemy as sa
from alembic import context, op
from flask import current_app

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# alembic's own logger: these lines print beside its "Running upgrade 0002 -> 0003".
log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    if context.is_offline_mode():
        # The rewrite reads every phone: it cannot be written as SQL in advance. The script
        # still records 0003 as applied, hence the stamp back to 0002 before upgrading online.
        note = ("0003: stored phones are NOT rewritten to E.164 by this script; after running "
                "it, rewrite them online: flask db stamp 0002 && flask db upgrade 0003 "
                "&& flask db stamp head")
        op.execute(f"-- {note}")
        log.warning(note)
        return
    bind = op.get_bind()
    region = current_app.config["PHONE_REGION"]
    # By id: which of two rows that become one number keeps it must not depend on the plan.
    rows = bind.execute(
        sa.text("SELECT id, phone FROM users WHERE phone IS NOT NULL ORDER BY id")
    ).all()
    holders = {phone: user_id for user_id, phone in rows}
    for user_id, phone in rows:
        e164 = _e164(phone, region)
        if e164 == phone:
            continue
        if e164 is None:
            log.warning("user %s: phone left as it was: not a valid number in %s",
                        user_id, region)
            continue
        if e164 in holders:
            log.warning("user %s: phone left as it was: user %s has its number",
                        user_id, holders[e164])
            continue
        bind.execute(sa.text("UPDATE users SET phone = :phone WHERE id = :id"),
                     {"phone": e164, "id": user_id})
        del holders[phone]
        holders[e164] = user_id


def _e164(phone, region):
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def downgrade():
    pass  # E.164 is what the older code accepted too
