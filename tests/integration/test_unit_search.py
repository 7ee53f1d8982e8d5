"""The unit pickers' search (GET /units/search): by name or code, bounded, within a campaign's enrolled
units when one is given; bad parameters and other roles get JSON errors, never a 500."""

import pytest

from app.services.accounts import unit_search, units
from tests.support import make_campaign

URL = "/units/search"


def _roster(rows: list[tuple[str, str]]) -> bytes:
    return ("单位代码,单位名称,单位类型\n" + "".join(f"{code},{name},乡镇\n" for code, name in rows)).encode()


@pytest.fixture
def county(app):
    """Four named units, 60 numbered ones (X000..X059, 测试00镇..), a campaign enrolling three named ones."""
    named = [("T01", "塘渡口镇"), ("T02", "白仓镇"), ("T03", "塘田市镇"), ("D01", "县住建局")]
    numbered = [(f"X{i:03d}", f"测试{i:02d}镇") for i in range(60)]
    with app.app_context():
        assert units.import_units(_roster(named + numbered), "county.csv", None).ok
        ids = {u.code: u.id for u in units.list_units()}
        campaign = make_campaign([ids["T01"], ids["T02"], ids["D01"]])
    return {"ids": ids, "campaign": campaign}


def _names(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [u["name"] for u in resp.get_json()["units"]]


def test_searches_names_by_any_part_and_codes_in_any_case(county, login_as):
    sup = login_as("supervisor")
    assert _names(sup.get(f"{URL}?q=塘")) == ["塘渡口镇", "塘田市镇"]  # leading matches, then by code
    assert _names(sup.get(f"{URL}?q=渡口")) == ["塘渡口镇"]
    assert _names(sup.get(f"{URL}?q=d01")) == ["县住建局"]
    body = sup.get(f"{URL}?q=t02").get_json()
    assert body == {
        "units": [{"id": county["ids"]["T02"], "code": "T02", "name": "白仓镇", "kind": "township"}],
        "more": False,
    }
    # LIKE's wildcards are searched for as they are.
    assert _names(sup.get(f"{URL}?q=%25")) == [] and _names(sup.get(f"{URL}?q=_")) == []


def test_exact_code_comes_first(county, login_as):
    sup = login_as("admin")
    assert _names(sup.get(f"{URL}?q=X001"))[0] == "测试01镇"
    assert _names(sup.get(f"{URL}?q=x00"))[:2] == ["测试00镇", "测试01镇"]


def test_answers_at_most_the_limit_and_says_there_are_more(county, login_as):
    sup = login_as("assessor")
    default = sup.get(f"{URL}?q=测试").get_json()
    assert len(default["units"]) == unit_search.LIMIT and default["more"] is True
    five = sup.get(f"{URL}?q=测试&limit=5").get_json()
    assert [u["code"] for u in five["units"]] == ["X000", "X001", "X002", "X003", "X004"] and five["more"]
    capped = sup.get(f"{URL}?q=测试&limit=100000").get_json()
    assert len(capped["units"]) == unit_search.LIMIT_MAX and capped["more"] is True
    everything = sup.get(f"{URL}?q=测试&limit=60").get_json()
    assert len(everything["units"]) == unit_search.LIMIT_MAX  # capped, though 60 match
    assert len(sup.get(f"{URL}?q=镇&limit=3").get_json()["units"]) == 3


def test_a_campaign_scopes_the_search_to_its_enrolled_units(county, login_as):
    sup = login_as("supervisor")
    campaign = county["campaign"]
    assert _names(sup.get(f"{URL}?q=塘&campaign={campaign}")) == ["塘渡口镇"]  # 塘田市镇 is not enrolled
    assert _names(sup.get(f"{URL}?q=测试&campaign={campaign}")) == []
    assert _names(sup.get(f"{URL}?campaign={campaign}")) == ["县住建局", "塘渡口镇", "白仓镇"]  # by code
    missing = sup.get(f"{URL}?q=塘&campaign=999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "专项整治不存在"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=abc", "bad_limit"),
        ("limit=0", "bad_limit"),
        ("limit=-3", "bad_limit"),
        ("limit=99999999999999", "bad_limit"),
        ("campaign=x", "bad_campaign"),
        ("campaign=0", "bad_campaign"),
        ("q=" + "塘" * 65, "search_too_long"),
    ],
)
def test_bad_parameters_get_a_json_400_that_says_what_is_wrong(county, login_as, query, code):
    sup = login_as("supervisor")
    resp = sup.get(f"{URL}?{query}")
    assert resp.status_code == 400 and resp.is_json
    error = resp.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_bad_parameters_are_explained_in_english_too(county, login_as):
    sup = login_as("supervisor")
    error = sup.get(f"{URL}?limit=abc&lang=en").get_json()["error"]
    assert "limit" in error["message"] and not any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])


@pytest.mark.parametrize("role", ["designer", "unit_staff"])
def test_other_roles_get_a_json_403(county, login_as, role):
    caller = login_as(role, county["ids"]["T01"] if role == "unit_staff" else None)
    resp = caller.get(f"{URL}?q=塘")  # no Accept header: still JSON
    assert resp.status_code == 403 and resp.is_json and resp.get_json()["error"]


def test_anonymous_callers_are_sent_to_log_in(county, client):
    resp = client.get(f"{URL}?q=塘")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_answers_are_not_cached(county, login_as):
    assert login_as("supervisor").get(f"{URL}?q=塘").headers["Cache-Control"] == "private, no-store"
