"""GET /communities/{id}/stats: participation and cleanliness rolled up the hierarchy."""
from datetime import datetime, timedelta

import pytest

from tests.factories import assert_error, make_code, make_community, make_shop, make_user
from tests.gamification.scanning import BKK, scan_at, unlimit_actions

NOW = datetime.now(BKK)


@pytest.fixture
def lamphun():
    """Province > 2 districts > 3 tambons > 4 villages."""
    province = make_community("ลำพูน Lamphun", "province")
    mueang = make_community("เมืองลำพูน Mueang Lamphun", "district", province)
    pa_sang = make_community("ป่าซาง Pa Sang", "district", province)
    umong = make_community("อุโมงค์ Umong", "tambon", mueang)
    pa_sak = make_community("ป่าสัก Pa Sak", "tambon", mueang)
    mae_raeng = make_community("แม่แรง Mae Raeng", "tambon", pa_sang)
    return {
        "province": province, "mueang": mueang, "pa_sang": pa_sang,
        "umong": umong, "pa_sak": pa_sak, "mae_raeng": mae_raeng,
        "pa_sao": make_community("บ้านป่าเส้า Ban Pa Sao", "village", umong),
        "nong_nam": make_community("บ้านหนองน้ำ Ban Nong Nam", "village", umong),
        "nam_phu": make_community("บ้านน้ำพุ Ban Nam Phu", "village", pa_sak),
        "pa_buk": make_community("บ้านป่าบุก Ban Pa Buk", "village", mae_raeng),
    }


def stats(client, community):
    response = client.get(f"/api/v1/communities/{community.id}/stats")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def summary(body):
    return (body["members"], body["active_members"], round(body["participation_rate"], 4),
            body["clean"])


def test_participation_rolls_up_village_tambon_district_province(client, lamphun):
    unlimit_actions()
    code = make_code(make_shop())

    def resident(village, *days_ago):
        user = make_user(community_id=lamphun[village].id)
        for n, days in enumerate(days_ago):
            scan_at(user, code, NOW - timedelta(days=days, seconds=n))
        return user

    resident("pa_sao", 0)
    resident("pa_sao", 3, 0)
    resident("nong_nam", 29)                   # active: 29 local days ago is inside the 30
    lapsed = resident("nong_nam", 30)          # not any more
    idle = resident("nong_nam")                # never scanned
    resident("nam_phu", 1)
    resident("pa_buk", 0)
    make_user("shop_owner", community_id=lamphun["pa_buk"].id)  # not a resident: no member

    assert summary(stats(client, lamphun["pa_sao"])) == (2, 2, 1.0, True)
    assert summary(stats(client, lamphun["nong_nam"])) == (3, 1, 0.3333, False)
    assert summary(stats(client, lamphun["umong"])) == (5, 3, 0.6, False)   # a village not clean
    assert summary(stats(client, lamphun["pa_sak"])) == (1, 1, 1.0, True)
    assert summary(stats(client, lamphun["mueang"])) == (6, 4, 0.6667, False)
    assert summary(stats(client, lamphun["pa_sang"])) == (1, 1, 1.0, True)
    province = stats(client, lamphun["province"])
    assert summary(province) == (7, 5, 0.7143, False)
    assert province["points"] == 7 * 5 and province["impact"] == {"plastic_bag": 7}
    assert (province["children_count"], province["children_clean"]) == (2, 1)
    assert province["clean_threshold"] == 0.8 and province["active_days"] == 30
    assert province["name"] == "ลำพูน Lamphun" and province["kind"] == "province"

    # The last households of Ban Nong Nam take part: the whole province turns clean.
    for n, user in enumerate((lapsed, idle)):
        scan_at(user, code, NOW - timedelta(seconds=10 + n))
    assert summary(stats(client, lamphun["nong_nam"])) == (3, 3, 1.0, True)
    assert summary(stats(client, lamphun["umong"])) == (5, 5, 1.0, True)
    assert summary(stats(client, lamphun["mueang"])) == (6, 6, 1.0, True)
    assert summary(stats(client, lamphun["province"])) == (7, 7, 1.0, True)


def test_a_parent_is_clean_only_when_every_child_is_whatever_its_own_rate(client, lamphun, app,
                                                                       monkeypatch):
    unlimit_actions()
    code = make_code(make_shop())
    for village in ("pa_sao", "nong_nam", "nam_phu"):
        scan_at(make_user(community_id=lamphun[village].id), code, NOW)
    # 3 of 4 villages clean, 75% active: under the default threshold; but Ban Pa Buk has no
    # member at all, and an empty village is never clean.
    assert summary(stats(client, lamphun["pa_buk"])) == (0, 0, 0.0, False)
    assert summary(stats(client, lamphun["province"])) == (3, 3, 1.0, False)
    assert stats(client, lamphun["mueang"])["clean"] is True
    monkeypatch.setitem(app.config, "CLEAN_COMMUNITY_THRESHOLD", 0.5)
    assert stats(client, lamphun["pa_buk"])["clean"] is False
    make_user(community_id=lamphun["pa_buk"].id)
    make_user(community_id=lamphun["pa_buk"].id)
    scan_at(make_user(community_id=lamphun["pa_buk"].id), code, NOW)
    assert summary(stats(client, lamphun["pa_buk"])) == (3, 1, 0.3333, False)
    monkeypatch.setitem(app.config, "CLEAN_COMMUNITY_THRESHOLD", 0.3)
    assert stats(client, lamphun["pa_buk"])["clean_threshold"] == 0.3
    assert stats(client, lamphun["province"])["clean"] is True


def test_stats_of_an_unknown_community_is_404(client):
    assert_error(client.get("/api/v1/communities/4242/stats"), 404, "unknown_community")
