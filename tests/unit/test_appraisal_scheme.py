"""The shipped scheme file and the checks a scheme file must pass."""

from decimal import Decimal
from pathlib import Path

import pytest

from app.services.appraisal.appraisal_schemes import SchemeError, parse_scheme
from app.services.appraisal.ranking import rank_totals

SHIPPED = Path(__file__).resolve().parents[2] / "schemes" / "conduct-appraisal-2017.yaml"


def test_shipped_scheme_is_seed_004s_hundred_points():
    scheme = parse_scheme(SHIPPED.read_text(encoding="utf-8"))
    assert scheme["total"] == "100" and scheme["bottom_n"] == 2
    components = {c["key"]: c for c in scheme["components"]}
    assert list(components) == ["mobile", "work", "hotline", "deputies", "web", "weibo", "tv", "districts"]
    assert sum(Decimal(c["points"]) for c in scheme["components"]) == 100
    assert [p["name"] for p in components["work"]["parts"]] == [
        "遵守作风建设纪律规定",
        "依法行政",
        "信访处置",
        "政务公开",
        "中心窗口服务",
        "效能建设",
    ]
    for c in scheme["components"]:
        if c["parts"]:
            assert sum(Decimal(p["points"]) for p in c["parts"]) == Decimal(c["max"]) == Decimal(c["points"])
    assert components["hotline"]["points"] == "32" and len(components["hotline"]["parts"]) == 4
    assert components["mobile"]["parts"] == []


BASE = """
key: k
name: 方案
total: 10
components:
  - {key: a, name: 甲, points: 6, parts: [{name: 一, points: 3}, {name: 二, points: 3}]}
  - {key: b, name: 乙, points: 4}
"""


def test_a_valid_small_scheme_and_a_scaled_component():
    assert parse_scheme(BASE)["components"][1]["max"] == "4"
    scaled = BASE.replace("{key: b, name: 乙, points: 4}", "{key: b, name: 乙, points: 4, max: 100}")
    assert parse_scheme(scaled)["components"][1] == {"key": "b", "name": "乙", "points": "4", "max": "100", "parts": []}


@pytest.mark.parametrize(
    "change, message",
    [
        (("total: 10", "total: 12"), "不等于总分"),
        (("{name: 二, points: 3}", "{name: 二, points: 2}"), "细项分值之和"),
        (("key: b", "key: a"), "重复"),
        (("points: 4}", "points: 0}"), "大于0"),
        (("points: 4}", "points: 四}"), "不是数字"),
        (("name: 一,", "name: '',"), "细项须有名称"),
        (("key: k\n", ""), "key 和 name"),
        (("total: 10", "total: 10\nbottom_n: -1"), "bottom_n"),
    ],
)
def test_a_broken_scheme_is_refused_with_its_reason(change, message):
    with pytest.raises(SchemeError) as exc:
        parse_scheme(BASE.replace(*change))
    assert message in exc.value.message


def test_not_yaml_and_no_components_are_refused():
    with pytest.raises(SchemeError, match="YAML"):
        parse_scheme("key: [")
    with pytest.raises(SchemeError, match="至少有一个"):
        parse_scheme("key: k\nname: n\ntotal: 10\ncomponents: []\n")


def D(*values):
    return [Decimal(str(v)) for v in values]


def test_equal_totals_share_the_better_rank():
    places = rank_totals(D(90, 80, 80, 70), 0)
    assert [p.rank for p in places] == [1, 2, 2, 4]
    assert [p.tied for p in places] == [False, True, True, False]
    assert not any(p.flagged for p in places)


def test_bottom_n_without_ties_flags_exactly_n():
    assert [p.flagged for p in rank_totals(D(95, 90, 85, 80, 75), 2)] == [False, False, False, True, True]


def test_a_tie_at_the_line_flags_every_tied_unit():
    # The 2nd lowest total is 80, shared by two units: three are flagged, not two.
    places = rank_totals(D(90, 80, 80, 70), 2)
    assert [p.flagged for p in places] == [False, True, True, True]
    # A tie below the line needs no more places.
    assert [p.flagged for p in rank_totals(D(90, 85, 70, 70), 2)] == [False, False, True, True]
    # Everyone tied: everyone flagged.
    assert all(p.flagged for p in rank_totals(D(80, 80, 80), 1))


def test_a_category_no_larger_than_n_is_flagged_whole_and_n_zero_flags_none():
    assert all(p.flagged for p in rank_totals(D(99, 98), 2))
    assert rank_totals([], 2) == []
    assert not any(p.flagged for p in rank_totals(D(1, 2, 3), 0))
