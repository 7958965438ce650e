"""The national service index (Decision 766/QĐ-TTg) pinned on worked numbers: every formula, the
group sums, indicators with nothing to count, linear scoring, bad files, ranking with ties."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.stats.figures import COUNTERS, rates, total
from services.stats.index import MAX, load, rank

INDEX = load()

# A commune's 18 days (one seeded province's report): 922 dossiers received, 685 of them online
# (400 fully, 285 partly) and 237 at the counter; 902 resolved: 700 early, 184 on time, 18 late.
COMMUNE = total(
    [
        {
            "received": 922,
            "received_online_full": 400,
            "received_online_partial": 285,
            "received_counter": 237,
            "online": 685,
            "components": 2766,
            "components_digitised": 2760,
            "components_reused": 300,
            "fee_bearing": 300,
            "fee_exempt": 20,
            "paid_online": 252,
            "resolved": 902,
            "early": 700,
            "on_time": 184,
            "late": 18,
            "apologised": 12,
            "results": 902,
            "results_digitised": 899,
            "rated": 400,
            "satisfied": 380,
            "unhappy": 25,
            "complaints": 10,
            "complaints_answered": 10,
            "complaints_answered_on_time": 9,
        }
    ]
)

# indicator → (percent scored on, points): worked by hand, points = weight × percent / 100 unless said.
WORKED = {
    "procedures_published_on_time": (100.0, 4.0),  # declared by the province
    "procedures_updated_on_time": (100.0, 4.0),  # declared
    "procedures_complete": (100.0, 4.0),  # declared
    "dossiers_public": (100.0, 6.0),  # 922 / 922
    "early_or_on_time": (98.0, 15.68),  # (700 + 184) / 902 = 98.00% → 16 × 0.98
    "resolved_early": (77.61, 3.1),  # 700 / 902 = 77.61% → 4 × 0.7761 = 3.1044
    "components_digitised": (99.78, 7.98),  # 2760 / 2766 → 8 × 0.9978 = 7.9824
    "results_digitised": (99.67, 7.97),  # 899 / 902 → 8 × 0.9967 = 7.9736
    "components_reused": (10.85, 0.65),  # 300 / 2766 → 6 × 0.1085 = 0.651
    "procedures_online": (100.0, 4.0),  # declared
    "online_full": (43.38, 1.74),  # 400 / 922 → 4 × 0.4338 = 1.7352
    "online": (74.3, 5.94),  # 685 / 922 = 74.30% → 8 × 0.743 = 5.944
    "paid_online": (90.0, 5.4),  # 252 / (300 − 20 exempt) → 6 × 0.9
    "complaints_on_time": (90.0, 5.4),  # 9 / 10 → 6 × 0.9
    "citizens_satisfied": (95.0, 5.7),  # 380 / 400 → 6 × 0.95
    "handling_satisfaction": (97.23, 6.0),  # (902 − 25) / 902 = 97.23% ≥ 95% → full
}


def indicators(result: dict) -> dict[str, dict]:
    return {row["id"]: row for group in result["groups"] for row in group["indicators"]}


def test_groups_and_weights_of_the_decision() -> None:
    assert [(g.id, g.name, g.weight) for g in INDEX.groups] == [
        ("transparency", "Công khai, minh bạch", 18),
        ("progress", "Tiến độ, kết quả giải quyết", 20),
        ("digitisation", "Số hóa hồ sơ", 22),
        ("online", "Cung cấp dịch vụ trực tuyến", 22),
        ("satisfaction", "Mức độ hài lòng", 18),
    ]
    for group in INDEX.groups:
        assert sum(indicator.weight for indicator in group.indicators) == group.weight
    assert sum(group.weight for group in INDEX.groups) == MAX == 100
    declared = [i.id for g in INDEX.groups for i in g.indicators if i.declared is not None]
    assert declared == [
        "procedures_published_on_time",
        "procedures_updated_on_time",
        "procedures_complete",
        "procedures_online",
    ]


def test_the_worked_commune_scores_each_formula() -> None:
    result = INDEX.score(COMMUNE, rates(COMMUNE))
    rows = indicators(result)
    assert set(rows) == set(WORKED)
    for name, (value, points) in WORKED.items():
        row = rows[name]
        assert (row["value"], row["score"]) == (value, points), name
        assert row["lost"] == round(row["weight"] - points, 2)
        assert row["applicable"] is True
    assert {g["id"]: g["score"] for g in result["groups"]} == {
        "transparency": 18.0,
        "progress": 18.78,  # 15.68 + 3.1
        "digitisation": 16.6,  # 7.98 + 7.97 + 0.65
        "online": 17.08,  # 4 + 1.74 + 5.94 + 5.4
        "satisfaction": 17.1,  # 5.4 + 5.7 + 6
    }
    assert result["score"] == 87.56
    assert result["max"] == 100


def test_the_result_has_exactly_the_published_shape() -> None:
    result = INDEX.score(COMMUNE, rates(COMMUNE))
    assert set(result) == {"score", "max", "groups"}
    group = result["groups"][1]
    assert set(group) == {"id", "name", "weight", "score", "indicators"}
    assert group["indicators"][0] == {
        "id": "early_or_on_time",
        "name": "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
        "weight": 16,
        "score": 15.68,
        "lost": 0.32,
        "value": 98.0,
        "applicable": True,
        "formula": "(early + on_time) / resolved, full at 100%",
    }
    formulas = {row["id"]: row["formula"] for row in indicators(result).values()}
    assert formulas["procedures_online"] == "declared by the province: 100%"
    assert formulas["paid_online"] == "paid_online_rate, full at 100%"
    assert formulas["handling_satisfaction"] == "handling_satisfaction_rate, full at 95%"


def test_nothing_to_count_earns_the_full_weight() -> None:
    empty = dict.fromkeys(COUNTERS, 0)
    result = INDEX.score(empty, rates(empty))
    rows = indicators(result)
    assert result["score"] == 100.0
    for row in rows.values():
        assert row["score"] == row["weight"] and row["lost"] == 0
        assert row["applicable"] is (row["formula"].startswith("declared"))
        assert row["value"] == (100.0 if row["applicable"] else None)


def test_one_missing_denominator_leaves_the_rest_scored() -> None:
    # no fee-bearing dossier and no complaint: those two are not applicable, the others still count
    counters = COMMUNE | {"fee_bearing": 0, "fee_exempt": 0, "paid_online": 0, "complaints": 0}
    counters |= {"complaints_answered": 0, "complaints_answered_on_time": 0}
    result = INDEX.score(counters, rates(counters))
    rows = indicators(result)
    for name in ("paid_online", "complaints_on_time"):
        assert (rows[name]["value"], rows[name]["applicable"], rows[name]["score"]) == (None, False, 6.0)
    assert rows["online"]["score"] == 5.94
    assert result["score"] == round(87.56 + 0.6 + 0.6, 2)


def test_handling_satisfaction_is_full_at_the_resolution_76_target() -> None:
    counters = COMMUNE | {"resolved": 100, "unhappy": 10}  # 90 of 100: below the 95% target
    row = indicators(INDEX.score(counters, rates(counters)))["handling_satisfaction"]
    assert (row["value"], row["score"]) == (90.0, 5.68)  # 6 × 90 / 95 = 5.684
    counters = COMMUNE | {"resolved": 100, "unhappy": 5}  # 95%: full
    assert indicators(INDEX.score(counters, rates(counters)))["handling_satisfaction"]["score"] == 6.0


ONE_GROUP = """
[[groups]]
id = "all"
name = "Tất cả"
weight = 100

[[indicators]]
id = "online"
group = "all"
name = "Tỷ lệ hồ sơ trực tuyến"
weight = 60
numerator = "online"
denominator = "received"
full_at = 90
zero_at = 50

[[indicators]]
id = "declared"
group = "all"
name = "Tỷ lệ do tỉnh báo cáo"
weight = 40
declared = 75
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "index.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("online", "points"),
    [(95, 60.0), (90, 60.0), (80, 45.0), (70, 30.0), (61, 16.5), (50, 0.0), (30, 0.0)],
)
def test_scoring_is_linear_between_zero_at_and_full_at(tmp_path: Path, online: int, points: float) -> None:
    index = load(write(tmp_path, ONE_GROUP))
    counters = total([{"received": 100, "online": online}])
    result = index.score(counters, rates(counters))
    rows = indicators(result)
    assert rows["online"]["score"] == points  # 60 × (online − 50) / (90 − 50)
    assert rows["online"]["formula"] == "online / received, full at 90%, zero at 50%"
    assert (rows["declared"]["value"], rows["declared"]["score"]) == (75.0, 30.0)  # 40 × 0.75
    assert result["score"] == round(points + 30.0, 2)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('numerator = "online"', 'numerator = "onlines"', "indicator online: unknown counter 'onlines'"),
        ('numerator = "online"', 'numerator = ["online", "x"]', "indicator online: unknown counter 'x'"),
        ('numerator = "online"\ndenominator = "received"', 'value = "online_share"', "indicator online: unknown rate"),
        ('numerator = "online"\n', "", "indicator online: needs exactly one of"),
        ("declared = 75", 'declared = 75\nvalue = "online_rate"', "indicator declared: needs exactly one of"),
        ("declared = 75", "declared = 120", "indicator declared: declared, full_at and zero_at are percents"),
        ("zero_at = 50", "zero_at = 90", "indicator online: .* zero_at below full_at"),
        (
            'group = "all"\nname = "Tỷ lệ hồ sơ trực tuyến"',
            'group = "al"\nname = "x"',
            "indicator online: unknown group",
        ),
        ("full_at = 90", "full_at = 90\nfull_as = 80", "indicator online: unknown key 'full_as'"),
        ("weight = 60", "weight = -60", "indicator online: needs a name and a positive weight"),
        ("weight = 60", "weight = 50", "group all: its indicators weigh 90, not 100"),
        ('id = "declared"', 'id = "online"', "indicator online: listed twice"),
    ],
)
def test_a_bad_file_is_refused_naming_the_indicator(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in ONE_GROUP
    with pytest.raises(ValueError, match=message):
        load(write(tmp_path, ONE_GROUP.replace(old, new, 1)))


def test_groups_must_weigh_100(tmp_path: Path) -> None:
    text = ONE_GROUP.replace("weight = 100", "weight = 90").replace("weight = 60", "weight = 50")
    with pytest.raises(ValueError, match="groups: they weigh 90, not 100"):
        load(write(tmp_path, text))


def test_ranks_share_ties_and_skip_after_them() -> None:
    assert rank({"A": 91.2, "B": 88.0, "C": 88.0, "D": 70.5, "E": 95.0}) == {
        "E": (1, 5),
        "A": (2, 5),
        "B": (3, 5),
        "C": (3, 5),
        "D": (5, 5),
    }
    assert rank({}) == {}
    assert rank({"H40.101": 0.0}) == {"H40.101": (1, 1)}


def test_eleventh_of_129_communes() -> None:
    scores = {f"H40.{n}": 90.0 + n / 100 for n in range(1, 11)}  # ten communes ahead
    scores |= {"H40.101": 85.5, "H40.102": 85.5}  # tied 11th
    scores |= {f"H40.{200 + n}": 50.0 + n / 10 for n in range(117)}  # the rest, all lower
    ranks = rank(scores)
    assert len(scores) == 129
    assert ranks["H40.101"] == ranks["H40.102"] == (11, 129)
    assert ranks["H40.316"] == (13, 129)  # the best of the rest comes after the tie
    assert ranks["H40.200"] == (129, 129)
