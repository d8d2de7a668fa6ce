"""``flask --app wsgi <command>``: operator and maintenance commands."""
import sys
from datetime import timedelta

import click
from flask import current_app

from ecolife.extensions import db, redis_store


def register_cli(app):
    """Attach every command to the app's CLI."""
    for command in (create_operator, verify_ledger, expire_points, purge_idempotency_keys,
                    purge_refresh_tokens, purge_web_sessions, seed_defaults, seed_demo,
                    expire_vouchers, rebuild_leaderboards):
        app.cli.add_command(command)


@click.command("create-operator")
@click.option("--email", required=True)
@click.option("--password", required=True, help="8 characters or more")
@click.option("--name", "display_name", default="Operator")
def create_operator(email, password, display_name):
    """Create an operator account (operators are never self-registered)."""
    import marshmallow as ma

    from ecolife.audit.service import record as audit
    from ecolife.auth.schemas import RegisterIn
    from ecolife.auth.service import AlreadyRegistered, create_user
    from ecolife.users.schemas import clean_display_name

    try:  # registration's rule: login reads a string without "@" as a phone, not an email
        email = RegisterIn().fields["email"].deserialize(email)
    except ma.ValidationError as exc:
        raise click.BadParameter(" ".join(exc.messages), param_hint="--email") from exc
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    try:  # the same rule as a registration's: operators appear in lists too
        display_name = clean_display_name(display_name)
    except ma.ValidationError as exc:
        raise click.BadParameter(" ".join(exc.messages), param_hint="--name") from exc
    try:
        user = create_user(email=email, password=password, display_name=display_name,
                           role="operator")
    except AlreadyRegistered as exc:
        raise click.ClickException(f"{email} is already registered") from exc
    db.session.flush()
    # The most powerful role there is: granted by whoever runs the command (no actor).
    audit(None, "operator.create", user,
          {"email": user.email, "display_name": user.display_name, "via": "cli"})
    db.session.commit()
    click.echo(f"operator {user.id} <{user.email}> created")


@click.command("seed-defaults")
def seed_defaults():
    """Insert the default earning rules and badges that are missing."""
    from ecolife.seed import ensure_defaults

    ensure_defaults()
    click.echo("defaults present")


@click.command("seed-demo")
def seed_demo():
    """Seed a Lamphun demo (communities, shops, codes, rewards, accounts); not in production."""
    from ecolife.seed import DEMO_PASSWORD, DemoRefused, demo_sticker_url, seed_demo as seed

    try:
        users = seed()
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from exc  # exit status 1, message on stderr
    for role, user in users.items():
        click.echo(f"{role}: {user.email} / {DEMO_PASSWORD}")
    sticker = demo_sticker_url()
    if sticker:
        click.echo(f"demo sticker: open {sticker} in a phone-size browser window, join, and "
                   "collect points (as a shop's QR code would open it)")


@click.command("verify-ledger")
def verify_ledger():
    """Check that every account's ledger sums to its balance.

    Exit status: 0 when every account checks out, 1 when one does not (each problem printed),
    2 when the check could not run (e.g. the database is unreachable).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ecolife.points.verification import verify

    try:
        problems = verify()
    except SQLAlchemyError as exc:
        # Not a verdict on the ledger: a monitor must tell this from a mismatch.
        reason = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
        click.echo(f"verify-ledger could not run: {reason.splitlines()[0]}", err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo("ledger ok")


@click.command("expire-points")
def expire_points():
    """Expire points past POINTS_EXPIRE_DAYS, oldest first (safe to run twice)."""
    from ecolife.points.service import expire_due

    users, points = expire_due()
    click.echo(f"expired {points} points of {users} users")


@click.command("expire-vouchers")
def expire_vouchers():
    """Mark issued vouchers past expires_at expired and refund them (safe to run twice)."""
    from ecolife.rewards.redemptions import expire_vouchers as expire

    vouchers, points = expire()
    click.echo(f"expired {vouchers} vouchers, refunded {points} points")


@click.command("purge-idempotency-keys")
def purge_idempotency_keys():
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEEP_HOURS."""
    from ecolife.idempotency.service import purge_older_than
    from ecolife.timeutil import utcnow

    hours = current_app.config["IDEMPOTENCY_KEEP_HOURS"]
    click.echo(f"purged {purge_older_than(utcnow() - timedelta(hours=hours))} keys")


@click.command("purge-refresh-tokens")
def purge_refresh_tokens():
    """Forget the refresh tokens of sessions that have ended (none of their tokens usable)."""
    from ecolife.auth.service import purge_ended_sessions

    click.echo(f"purged {purge_ended_sessions()} refresh tokens")


@click.command("purge-web-sessions")
def purge_web_sessions():
    """Forget the web pages' sessions that have ended (logged out, or past WEB_SESSION_DAYS)."""
    from ecolife.auth.sessions import purge_ended_web_sessions

    click.echo(f"purged {purge_ended_web_sessions()} web sessions")


@click.command("rebuild-leaderboards")
def rebuild_leaderboards():
    """Rebuild every leaderboard from the ledger (e.g. after Redis lost writes)."""
    from ecolife.leaderboards.service import rebuild_boards

    click.echo(f"rebuilt {rebuild_boards()} leaderboard keys")
    if redis_store.embedded:
        click.echo("no REDIS_URL: that was this command's own in-process Redis; a server "
                   "fills its boards from the ledger once, at its first board read after it "
                   "starts: restart it to rebuild them")
