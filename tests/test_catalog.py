import casekit as ck
from casekit.inputs.catalog import CATEGORIES, DIRECTIONS, SCALES

# The measures CMMI case studies report (issue 2), by catalog name.
EXPECTED = {
    "defect_density": ("lower", "quality"),
    "escaped_defects": ("lower", "quality"),
    "rework_share": ("lower", "cost"),
    "cost_variance": ("lower", "cost"),
    "schedule_variance": ("lower", "schedule"),
    "on_time_delivery": ("higher", "schedule"),
    "cycle_time": ("lower", "schedule"),
    "lead_time": ("lower", "schedule"),
    "time_to_market": ("lower", "schedule"),
    "productivity": ("higher", "productivity"),
    "customer_satisfaction": ("higher", "customer satisfaction"),
    "nps": ("higher", "customer satisfaction"),
    "cost_of_quality": ("lower", "cost"),
    "process_efficiency": ("higher", "productivity"),
    "win_rate": ("higher", "customer satisfaction"),
    "market_share": ("higher", "customer satisfaction"),
    "it_cost_share": ("lower", "cost"),
    "roi": ("higher", "return on investment"),
}


def test_catalog_has_the_usual_measures_with_direction_and_category():
    cat = ck.kpi_catalog().set_index("kpi")
    for kpi, (better, category) in EXPECTED.items():
        assert (cat.loc[kpi, "better"], cat.loc[kpi, "category"]) == (better, category), kpi


def test_catalog_values_are_well_formed():
    cat = ck.kpi_catalog()
    assert cat["kpi"].is_unique
    assert set(cat["better"]) <= set(DIRECTIONS)
    assert set(cat["category"]) == set(CATEGORIES)  # every SEI category has a KPI
    assert set(cat["scale"]) <= set(SCALES)
    assert cat[["label", "unit", "description"]].notna().all().all()
    bounded = cat.dropna(subset=["min", "max"])
    assert (bounded["min"] < bounded["max"]).all()
    # KPIs whose values can be zero or negative cannot be compared as ratios
    assert set(cat.loc[cat["scale"] == "interval", "kpi"]) == {"nps", "cost_overrun", "schedule_overrun"}
    assert (cat.loc[cat["scale"] == "ratio", "min"] == 0).all()


def test_catalog_is_a_copy():
    mine = ck.kpi_catalog()
    mine.loc[0, "better"] = "sideways"
    assert ck.kpi_catalog().loc[0, "better"] != "sideways"
