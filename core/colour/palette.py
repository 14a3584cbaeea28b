"""The shop's colour vocabulary: named colours, the filter family each belongs to, their CIELAB values.

Every palette name belongs to one of the shop's filter *families* (black, white, grey, beige,
brown, red, pink, orange, yellow, green, blue, navy, purple): "burgundy" is a red, "sand" a beige,
"olive" a green. Naming a garment's measured colours with this palette is the recommender's
(``recommender.ml.colour.palette``); the shop names, filters and validates with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.colour.lab import lab_to_rgb, rgb_to_lab

#: (name, family, sRGB hex): reference colours of garments *as photographed* (not as dyed): catalog
#: photos taken indoors are dim, so a white tee measures about L* 75-85 and the achromatic anchors
#: sit lower than paint chips would. Neighbours differ by a name a shopper would use. The order is
#: stable: colour features index it.
PALETTE: tuple[tuple[str, str, str], ...] = (
    ("black", "black", "#232425"),
    ("charcoal", "grey", "#4f5052"),
    ("grey", "grey", "#6d6f72"),
    ("light grey", "grey", "#999a9c"),
    ("white", "white", "#c8c8c4"),
    ("cream", "beige", "#ece3cd"),
    ("beige", "beige", "#d6c4a3"),
    ("sand", "beige", "#c2a77f"),
    ("khaki", "green", "#8f8660"),
    ("camel", "brown", "#b0814f"),
    ("brown", "brown", "#6e4a30"),
    ("chocolate", "brown", "#43302a"),
    ("burgundy", "red", "#6e1f2e"),
    ("red", "red", "#bf2233"),
    ("coral", "orange", "#e8705f"),
    ("orange", "orange", "#e07a22"),
    ("mustard", "yellow", "#a88420"),
    ("yellow", "yellow", "#dcc23c"),
    ("olive", "green", "#5b5e2e"),
    ("green", "green", "#3f8a4a"),
    ("mint", "green", "#a6d8bd"),
    ("teal", "green", "#1f7471"),
    ("light blue", "blue", "#a7c4e2"),
    ("denim", "blue", "#4d6a8e"),
    ("blue", "blue", "#2f5fb3"),
    ("navy", "navy", "#293347"),
    ("purple", "purple", "#6a3d8a"),
    ("lilac", "purple", "#b7a3d0"),
    ("pink", "pink", "#eaa1b8"),
    ("fuchsia", "pink", "#c43b86"),
)
NAMES: tuple[str, ...] = tuple(name for name, _, _ in PALETTE)
FAMILY: dict[str, str] = {name: family for name, family, _ in PALETTE}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(family for _, family, _ in PALETTE))


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


PALETTE_LAB: np.ndarray = rgb_to_lab(np.array([hex_to_rgb(h) for _, _, h in PALETTE], dtype=np.float64))


@dataclass(frozen=True)
class NamedColour:
    name: str
    family: str
    share: float
    lab: tuple[float, float, float]

    @property
    def hex(self) -> str:
        r, g, b = (int(v) for v in lab_to_rgb(np.array(self.lab)))
        return f"#{r:02x}{g:02x}{b:02x}"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "share": round(self.share, 3),
            "lab": [round(float(v), 2) for v in self.lab],
            "hex": self.hex,
        }
