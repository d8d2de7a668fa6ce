"""The issue's "done when": register, approve, print a poster a phone reads, refuse revoked and
forged codes."""
from tests.codes.helpers import BASE, decode_svg
from tests.factories import auth, make_user


def test_register_approve_print_scan_revoke(client):
    owner, operator = auth(make_user("shop_owner")), auth(make_user("operator"))
    shop = client.post("/api/v1/shops", headers=owner, json={
        "name": "ร้านน้ำเต้าหู้ป้าจันทร์", "latitude": 18.58, "longitude": 99.01,
        "category": "cafe",
    }).get_json()
    assert shop["status"] == "pending"
    codes = f"/api/v1/shops/{shop['id']}/codes"
    assert client.post(codes, json={"action": "own_cup"}, headers=owner).status_code == 403
    assert client.post(f"/api/v1/shops/{shop['id']}/approve", headers=operator).status_code == 200

    code = client.post(codes, json={"action": "own_cup"}, headers=owner).get_json()
    poster = client.get(f"{codes}/{code['id']}/poster", headers=owner).get_data(as_text=True)
    assert "ร้านน้ำเต้าหู้ป้าจันทร์" in poster
    (read,) = decode_svg(poster[poster.index("<svg"): poster.index("</svg>") + len("</svg>")])
    assert read == code["url"] and read.startswith(BASE)
    landing = client.get(read.removeprefix("https://ecolife.example"))
    assert landing.status_code == 200
    assert "ร้านน้ำเต้าหู้ป้าจันทร์" in landing.get_data(as_text=True)

    token = read.removeprefix(BASE)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get("/s/" + forged).status_code == 404
    assert client.delete(f"{codes}/{code['id']}", headers=owner).status_code == 204
    assert client.get("/s/" + token).status_code == 410  # code_revoked, as POST /scans says
    assert client.get(f"{codes}/{code['id']}/poster", headers=owner).status_code == 410
