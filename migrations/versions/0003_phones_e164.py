"""phones as E.164: one number, one account, however it was typed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:30:00

Phones used to be stored with only their separators removed, so 0812345678 and
+66812345678 were two accounts. They are now stored in E.164 (+66812345678); this rewrites
the ones already stored. Numbers without a country code are read in PHONE_REGION (default
TH), as the service reads them. A number that is not valid, or whose E.164 form another
account already has (the duplicate this fixes), is left as it was for an operator to settle.
"""
import os

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    region = os.environ.get("PHONE_REGION", "TH")
    rows = bind.execute(sa.text("SELECT id, phone FROM users WHERE phone IS NOT NULL")).all()
    taken = {phone for _, phone in rows}
    for user_id, phone in rows:
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 in taken:
            continue
        bind.execute(sa.text("UPDATE users SET phone = :phone WHERE id = :id"),
                     {"phone": e164, "id": user_id})
        taken.discard(phone)
        taken.add(e164)


def downgrade():
    pass  # E.164 is what the older code accepted too
