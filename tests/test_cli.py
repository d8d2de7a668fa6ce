"""Operator commands fail as commands: one line and an exit status, never a traceback."""
import pytest
from sqlalchemy import func, select

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.users.models import User
from tests.factories import make_user
from tests.test_hardening_config import flask_cli


def create_operator(app, email):
    return app.test_cli_runner().invoke(
        args=["create-operator", "--email", email, "--password", "long enough"])


def operators():
    return db.session.scalar(select(func.count()).where(User.role == "operator"))


@pytest.mark.parametrize("email", ["taken@example.org", "Taken@Example.ORG"])
def test_create_operator_with_a_registered_email_is_a_one_line_error(app, email):
    make_user(email="taken@example.org")
    result = create_operator(app, email)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # click's error, not AlreadyRegistered
    assert result.output == f"Error: {email} is already registered\n"
    assert operators() == 0


@pytest.mark.parametrize("email", ["notanemail", "op@", "@example.org", ""])
def test_create_operator_refuses_what_registration_refuses_as_an_email(app, email):
    # Login reads a string without "@" as a phone: such an operator could never log in.
    result = create_operator(app, email)
    assert result.exit_code == 2
    assert "Error: Invalid value for --email: Not a valid email address.\n" in result.output
    assert operators() == 0


def test_verify_ledger_documents_its_exit_statuses(app):
    result = app.test_cli_runner().invoke(args=["verify-ledger", "--help"])
    assert "0 when every account checks out, 1 when one does not" in result.output
    assert "2 when the check could not run" in result.output


def test_verify_ledger_that_cannot_reach_the_database_exits_2_with_one_line(tmp_path):
    # 1 means "the ledger is wrong": a monitor must not page the accountants for an outage.
    result = flask_cli(tmp_path, "verify-ledger")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("verify-ledger could not run: "), lines


def test_create_operator_is_audited_and_a_refusal_is_not(app):
    assert create_operator(app, "new-op@example.org").exit_code == 0
    assert create_operator(app, "new-op@example.org").exit_code != 0
    user = db.session.scalar(select(User).where(User.email == "new-op@example.org"))
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.actor_id, e.target_id) for e in entries] == [
        ("operator.create", None, str(user.id))]
    assert entries[0].details == {"email": "new-op@example.org", "display_name": "Operator",
                                  "via": "cli"}
