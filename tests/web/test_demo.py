"""`make run`'s promise: the demo sticker it prints collects points in a browser, no app."""
import re

from sqlalchemy import select

from ecolife.extensions import db
from ecolife.scans.models import Scan
from ecolife.users.models import User
from tests.web.helpers import post_form, text


def test_seed_demo_prints_a_sticker_a_newcomer_collects_at(app, client):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    url = re.search(r"demo sticker: open (\S+)", result.output).group(1)
    assert url.startswith("https://ecolife.example/s/")
    path = url.removeprefix("https://ecolife.example")
    assert "ร้านกาแฟป่าซาง" in text(client.get(path))
    joined = post_form(client, f"/register?next={path}", {
        "login": "newcomer@example.org", "display_name": "มาใหม่", "password": "a long password"},
        form_page="/register")
    assert joined.headers["Location"] == path
    form = text(client.get(path))
    key = re.search(r'name="key" value="([0-9a-f]{32})"', form).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    # From Bangkok, 600 km away: the demo sticker's shop has no geofence.
    response = client.post(path, data={"csrf_token": csrf, "key": key,
                                       "latitude": "13.7563", "longitude": "100.5018"})
    assert response.status_code == 302 and response.headers["Location"] == "/claimed"
    newcomer = db.session.scalar(select(User).where(User.email == "newcomer@example.org"))
    assert newcomer.balance == 5
    assert db.session.scalars(select(Scan.points).where(Scan.user_id == newcomer.id)).all() == [5]
