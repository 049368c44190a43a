"""What the public Open311 interface may show of a case, by channel. Pure: no Django.

The table is data (``data/channels.csv``: channel, listed, description, position, note):

- ``listed``: ``public`` (its cases are listed) or ``internal`` (never listed);
- ``description``: ``shown`` or ``withheld`` (the free text never leaves);
- ``position``: ``exact``, ``coarse`` (snapped to a grid, no address or entrance) or
  ``consent`` (exact only when the reporter agreed, coarse otherwise).

An internal channel's description is always withheld and its position always coarse, whatever
a row says; a channel missing from the table is internal. A bad table refuses to load.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

LISTED = ("public", "internal")
DESCRIPTIONS = ("shown", "withheld")
POSITIONS = ("exact", "coarse", "consent")
DEFAULT_GRID_M = 150.0  # the coarse grid's side in metres (brief: 100-200 m)
METRES_PER_DEGREE_LAT = 111_320.0


class PolicyError(ValueError):
    """The channel table is malformed."""


@dataclass(frozen=True)
class ChannelPolicy:
    channel: str
    listed: bool
    show_description: bool
    position: str  # exact | coarse | consent

    def exact_position(self, *, consent: bool) -> bool:
        """Whether a case of this channel may show its exact point and entrance."""
        return self.position == "exact" or (self.position == "consent" and consent)


def parse_policies(text: str) -> dict[str, ChannelPolicy]:
    """Read the CSV table; refuses (``PolicyError``) an unknown value or a repeated channel."""
    out: dict[str, ChannelPolicy] = {}
    for n, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        channel = (row.get("channel") or "").strip()
        listed = (row.get("listed") or "").strip()
        description = (row.get("description") or "").strip()
        position = (row.get("position") or "").strip()
        if not channel:
            raise PolicyError(f"line {n}: channel is empty")
        if channel in out:
            raise PolicyError(f"line {n}: channel {channel} repeated")
        if listed not in LISTED or description not in DESCRIPTIONS or position not in POSITIONS:
            raise PolicyError(f"line {n}: listed must be one of {LISTED}, description of "
                              f"{DESCRIPTIONS}, position of {POSITIONS}")
        public = listed == "public"
        out[channel] = ChannelPolicy(
            channel=channel, listed=public,
            show_description=public and description == "shown",
            position=position if public else "coarse")
    return out


def load_policies(path: str | Path | None = None) -> dict[str, ChannelPolicy]:
    """The table at ``path``, else the packaged ``data/channels.csv``."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = (resources.files("jiayuan.open311") / "data" / "channels.csv").read_text(
            encoding="utf-8")
    return parse_policies(text)


def policy_of(table: dict[str, ChannelPolicy], channel: str) -> ChannelPolicy:
    return table.get(channel) or ChannelPolicy(channel=channel, listed=False,
                                               show_description=False, position="coarse")


def coarsen(lat: float, lng: float, *, grid_m: float = DEFAULT_GRID_M) -> tuple[float, float]:
    """The centre of the grid square (``grid_m`` metres a side) holding a WGS-84 point.

    The squares are fixed (not centred on the point), so two reports from one entrance fall
    in the same square and nothing of the exact point is left but the square. The longitude
    step follows the latitude of the square's row, so a square is about ``grid_m`` wide too.
    """
    if grid_m <= 0:
        raise ValueError("grid_m must be positive")
    lat_step = grid_m / METRES_PER_DEGREE_LAT
    row = math.floor(lat / lat_step)
    centre_lat = (row + 0.5) * lat_step
    lng_step = grid_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(centre_lat)), 0.01))
    centre_lng = (math.floor(lng / lng_step) + 0.5) * lng_step
    return round(centre_lat, 6), round(centre_lng, 6)
