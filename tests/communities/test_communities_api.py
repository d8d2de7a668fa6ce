"""/communities: the province > district > tambon > village hierarchy, managed by operators."""
import pytest
from sqlalchemy import select

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from tests.factories import assert_error, auth, make_community, make_user, make_village

URL = "/api/v1/communities"


def create(client, user, **body):
    return client.post(URL, json=body, headers=auth(user))


def test_an_operator_builds_the_hierarchy_and_thai_names_round_trip(client):
    operator = make_user("operator")
    province = create(client, operator, name="ลำพูน", kind="province").get_json()
    district = create(client, operator, name="ป่าซาง", kind="district",
                      parent_id=province["id"]).get_json()
    tambon = create(client, operator, name="แม่แรง", kind="tambon",
                    parent_id=district["id"]).get_json()
    village = create(client, operator, name="บ้านป่าบุก หมู่ 10", kind="village",
                     parent_id=tambon["id"])
    assert village.status_code == 201
    assert village.get_json() == {"id": village.get_json()["id"], "name": "บ้านป่าบุก หมู่ 10",
                                  "kind": "village", "parent_id": tambon["id"]}
    assert client.get(f"{URL}/{tambon['id']}").get_json()["name"] == "แม่แรง"


@pytest.mark.parametrize(
    "kind, parent_kind",
    [("village", "district"), ("district", "tambon"), ("province", "province"),
     ("tambon", None)],
)
def test_a_community_sits_only_under_the_level_above(client, kind, parent_kind):
    operator = make_user("operator")
    parent_id = None
    if parent_kind:
        village = make_village()  # a full chain; pick the community of the wanted kind
        chain = {}
        community = village
        while community is not None:
            chain[community.kind] = community
            community = db.session.get(type(village), community.parent_id) \
                if community.parent_id else None
        parent_id = chain[parent_kind].id
    body = assert_error(create(client, operator, name="x", kind=kind, parent_id=parent_id), 422,
                        "validation_error")
    assert "parent_id" in body["errors"]


@pytest.mark.parametrize("role, status", [("resident", 403), ("shop_owner", 403), (None, 401)])
def test_only_operators_create_or_change(client, role, status):
    province = make_community("ลำพูน", "province")
    user = make_user(role) if role else None
    headers = auth(user)
    assert client.post(URL, json={"name": "x", "kind": "province"},
                       headers=headers).status_code == status
    assert client.patch(f"{URL}/{province.id}", json={"name": "y"},
                        headers=headers).status_code == status
    assert client.get(f"{URL}/{province.id}").get_json()["name"] == "ลำพูน"


def test_a_rename_is_audited_with_before_and_after(client):
    operator = make_user("operator")
    province = make_community("Lamphun", "province")
    response = client.patch(f"{URL}/{province.id}", json={"name": "ลำพูน"},
                            headers=auth(operator))
    assert response.status_code == 200 and response.get_json()["name"] == "ลำพูน"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "community.update"))
    assert entry.details == {"before": {"name": "Lamphun"}, "after": {"name": "ลำพูน"}}
    assert entry.actor_id == operator.id


def test_list_filters_by_kind_and_parent_and_pages(client):
    village = make_village()
    villages = client.get(f"{URL}?kind=village")
    assert [c["id"] for c in villages.get_json()] == [village.id]
    children = client.get(f"{URL}?parent_id={village.parent_id}").get_json()
    assert [c["id"] for c in children] == [village.id]
    page = client.get(f"{URL}?page=1&page_size=2")
    assert len(page.get_json()) == 2 and '"total": 4' in page.headers["X-Pagination"]
    assert_error(client.get(f"{URL}?page_size=101"), 422, "validation_error")


def test_unknown_community_and_unknown_fields(client):
    operator = make_user("operator")
    assert_error(client.get(f"{URL}/999"), 404, "unknown_community")
    assert_error(create(client, operator, name="x", kind="province", population=5), 422,
                 "validation_error")
    assert_error(create(client, operator, name="x", kind="city"), 422, "validation_error")


def test_a_blank_name_is_refused(client):
    operator, province = make_user("operator"), make_community("ลำพูน", "province")
    body = assert_error(create(client, operator, name=" \t ", kind="province"), 422,
                        "validation_error")
    assert "name" in body["errors"]
    response = client.patch(f"{URL}/{province.id}", json={"name": "   "}, headers=auth(operator))
    assert "name" in assert_error(response, 422, "validation_error")["errors"]
    assert client.get(f"{URL}/{province.id}").get_json()["name"] == province.name
