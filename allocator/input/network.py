"""Distances and sparse arc sets between regions.

Nothing here builds a dense list of region pairs for the model: arcs are generated per region
(itself, its group, its ``k`` nearest regions) and joined with the explicit ``arcs.csv``. The
great-circle distance matrix used to rank neighbours is a vectorized numpy array.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                    ) -> np.ndarray:
    """Haversine distance in km (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


class Network:
    """Region coordinates, groups and explicit arcs, with distance lookups by id."""

    def __init__(self, regions: pd.DataFrame, arcs: pd.DataFrame | None) -> None:
        self.ids: list[str] = list(regions["id"])
        self.position = pd.Series(np.arange(len(self.ids)), index=self.ids)
        self.group = pd.Series(list(regions["group"]), index=self.ids)
        lat = regions["latitude"].to_numpy(float)
        lon = regions["longitude"].to_numpy(float)
        self.km = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        if arcs is None or arcs.empty:
            self.explicit = pd.DataFrame(columns=["from", "to", "distance_km", "unit_cost"])
        else:
            self.explicit = arcs[["from", "to", "distance_km", "unit_cost"]].copy()
        self._explicit_keyed = self.explicit.set_index(["from", "to"])
        self._order: np.ndarray | None = None
        self._arcs: dict[tuple[int, bool], pd.DataFrame] = {}

    def arcs(self, nearest: int, same_group: bool) -> pd.DataFrame:
        """:meth:`generated` arcs plus the explicit ones, described (:meth:`describe`);
        computed once per (nearest, same_group) and shared: do not modify the frame."""
        key = (int(nearest), bool(same_group))
        if key not in self._arcs:
            self._arcs[key] = self.describe(self.with_explicit(self.generated(*key)))
        return self._arcs[key]

    def generated(self, nearest: int, same_group: bool) -> pd.DataFrame:
        """Arcs (from, to) in both directions: each region to itself, to its group (if
        ``same_group``) and to its ``nearest`` closest regions."""
        n = len(self.ids)
        ids = np.array(self.ids, dtype=object)
        frm: list[np.ndarray] = [np.arange(n)]
        to: list[np.ndarray] = [np.arange(n)]
        if nearest > 0 and n > 1:
            k = min(nearest, n - 1)
            if self._order is None:
                d = self.km.copy()
                np.fill_diagonal(d, np.inf)
                # a stable sort breaks distance ties by file order, the same way every run
                self._order = np.argsort(d, axis=1, kind="stable")
            order = self._order[:, :k]
            frm += [np.repeat(np.arange(n), k), order.ravel()]
            to += [order.ravel(), np.repeat(np.arange(n), k)]
        if same_group:
            codes, _ = pd.factorize(self.group.to_numpy())
            for code in np.unique(codes):
                idx = np.flatnonzero(codes == code)
                if len(idx) > 1:
                    a, b = np.meshgrid(idx, idx, indexing="ij")
                    mask = a != b
                    frm.append(a[mask])
                    to.append(b[mask])
        pairs = pd.DataFrame({"from": ids[np.concatenate(frm)], "to": ids[np.concatenate(to)]})
        return pairs.drop_duplicates(ignore_index=True)

    def with_explicit(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """``pairs`` plus every explicit arc, without duplicates."""
        if self.explicit.empty:
            return pairs
        both = pd.concat([pairs[["from", "to"]], self.explicit[["from", "to"]]],
                         ignore_index=True)
        return both.drop_duplicates(ignore_index=True)

    def describe(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Add ``distance_km``, ``unit_cost`` (explicit, else NaN) and ``crosses_border``."""
        out = pairs.copy()
        i = self.position.reindex(out["from"]).to_numpy()
        j = self.position.reindex(out["to"]).to_numpy()
        out["distance_km"] = self.km[i, j] if len(out) else np.zeros(0)
        out["unit_cost"] = np.nan
        if not self.explicit.empty and len(out):
            key = pd.MultiIndex.from_frame(out[["from", "to"]])
            given = self._explicit_keyed.reindex(key)
            dist = given["distance_km"].to_numpy()
            out["distance_km"] = np.where(np.isnan(dist), out["distance_km"], dist)
            out["unit_cost"] = given["unit_cost"].to_numpy()
        out["crosses_border"] = (
            self.group.reindex(out["from"]).to_numpy() != self.group.reindex(out["to"]).to_numpy()
        )
        return out

    def neighbour_pairs(self, within_km: float, same_group: bool) -> pd.DataFrame:
        """Unordered pairs (a, b), a before b in file order, that are neighbours: in the same
        group (if ``same_group``) or at most ``within_km`` apart."""
        close = self.km <= within_km
        if same_group:
            g = self.group.to_numpy()
            close |= g[:, None] == g[None, :]
        a, b = np.nonzero(np.triu(close, k=1))
        ids = np.array(self.ids, dtype=object)
        return pd.DataFrame({"a": ids[a], "b": ids[b], "distance_km": self.km[a, b]})
