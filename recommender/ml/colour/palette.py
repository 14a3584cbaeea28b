"""Naming a garment's colours: a documented palette a shopper understands, in CIELAB.

A garment's pixels (read through its mask, :func:`recommender.ml.colour.lab.garment_lab_pixels`)
are clustered in Lab; each cluster is named by the nearest palette entry (CIEDE2000), clusters
with the same name merge, neutral names that are only shades of the garment's own colour join it
(:func:`garment_colours`), and the one to three largest names with at least :data:`MIN_SHARE` of
the garment are its colours, main colour first.

The palette itself (names, the filter family of each, Lab values, :class:`NamedColour`) is the
shop's vocabulary, :mod:`core.colour.palette`: "burgundy" is a red, "sand" a beige, "olive" a
green. The family of the main colour is what the shop's colour filter uses.

:func:`colour_features` is the colour part of the look-alike vector: a soft histogram of the
garment's pixels over the palette's anchors (Gaussian kernel in ΔE), square-rooted and L2
normalised, so the cosine of two garments' features is their histograms' Bhattacharyya
coefficient: 1 for the same colours in the same shares, 0 for colours far apart.
"""

from __future__ import annotations

import numpy as np

from core.colour.lab import delta_e_2000, rgb_to_lab
from core.colour.palette import FAMILIES, FAMILY, NAMES, PALETTE, PALETTE_LAB, NamedColour, hex_to_rgb

__all__ = [
    "FAMILIES",
    "FAMILY",
    "NAMES",
    "PALETTE",
    "PALETTE_LAB",
    "NamedColour",
    "colour_features",
    "garment_colours",
    "mean_lab",
    "name_lab",
]

#: More reference points for names whose garments photograph in two ways (dark indigo jeans are
#: denim; a red in shade is still red; lilac tulle and a pink dress in shade are still lilac and
#: pink, not the denim or lilac the palette's nearest entries would say). They name colours; they
#: are not colour features (:func:`colour_features` reads :data:`PALETTE_LAB` only).
EXTRA_ANCHORS: tuple[tuple[str, str], ...] = (
    ("navy", "#38496a"),
    ("denim", "#6b788d"),
    ("red", "#9e1c2c"),
    ("red", "#e0262f"),
    ("light blue", "#8ea9c8"),
    ("lilac", "#8b81a4"),
    ("pink", "#b37c8e"),
)
_ANCHOR_NAMES: tuple[str, ...] = NAMES + tuple(name for name, _ in EXTRA_ANCHORS)
_ANCHOR_LAB: np.ndarray = np.concatenate(
    [PALETTE_LAB, rgb_to_lab(np.array([hex_to_rgb(h) for _, h in EXTRA_ANCHORS], dtype=np.float64))]
)

NEUTRAL_CHROMA = 6.0
_ANCHOR_CHROMA = np.hypot(_ANCHOR_LAB[:, 1], _ANCHOR_LAB[:, 2])
_ANCHOR_HUE = np.degrees(np.arctan2(_ANCHOR_LAB[:, 2], _ANCHOR_LAB[:, 1])) % 360
_NEUTRAL_ENTRIES = _ANCHOR_CHROMA < NEUTRAL_CHROMA
#: A tinted colour is never named by a coloured entry whose hue is further than this (degrees of
#: the a*b* plane): CIEDE2000 weighs hue little at low chroma, so a dark aubergine lining (hue
#: 343°) came out "chocolate" (hue 43°); it is black, or a name of its own hue.
NAME_HUE = 50.0
#: A vivid colour (chroma at least :data:`VIVID_CHROMA`) is never named by an entry with less than
#: half its chroma: ΔE2000 discounts chroma differences there, so a royal-blue dress came out "navy".
VIVID_CHROMA = 30.0

#: A colour needs this share of the garment to be named (smaller ones are trims, prints, shadows).
MIN_SHARE = 0.15
#: Families whose names are neutrals: a tinted cluster named one of them may be a shade of the
#: garment's own colour (see :func:`garment_colours`).
NEUTRAL_FAMILIES = frozenset({"black", "grey", "white"})
#: A tinted neutral cluster is a shade of a colour of the garment when its hue is within this many
#: degrees of that colour's (a*b* plane) ...
SHADE_HUE = 30.0
#: ... and it is within this ΔE2000 of it (a lit or shaded fold, not a print in another lightness).
SHADE_DELTA_E = 15.0
MAX_COLOURS = 3
#: Fewer garment pixels than this (after subsampling) and the colour is unknown, never a guess.
MIN_PIXELS = 200
#: Width of the Gaussian kernel of :func:`colour_features`, in ΔE2000.
FEATURE_SIGMA = 10.0
UNKNOWN = "unknown"


def _lab_triple(lab) -> tuple[float, float, float]:
    """A Lab colour as three plain floats."""
    return (float(lab[0]), float(lab[1]), float(lab[2]))


def name_lab(lab: np.ndarray) -> np.ndarray:
    """Palette names of Lab colours of shape (..., 3): the nearest entry by CIEDE2000.

    A neutral colour (chroma below :data:`NEUTRAL_CHROMA`) is named among the neutrals only: a
    bright white is "white", never "cream". A tinted one is named among the neutrals and the
    entries of its own hue (:data:`NAME_HUE`), a vivid one never by a muted entry (:data:`VIVID_CHROMA`)."""
    lab = np.asarray(lab, dtype=np.float64)
    distances = delta_e_2000(lab[..., None, :], _ANCHOR_LAB)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    neutral = chroma < NEUTRAL_CHROMA
    distances = np.where(neutral[..., None] & ~_NEUTRAL_ENTRIES, np.inf, distances)
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360
    hue_gap = np.abs((hue[..., None] - _ANCHOR_HUE + 180) % 360 - 180)
    off_hue = ~neutral[..., None] & ~_NEUTRAL_ENTRIES & (hue_gap > NAME_HUE)
    too_muted = (chroma[..., None] >= VIVID_CHROMA) & (_ANCHOR_CHROMA < chroma[..., None] / 2)
    distances = np.where(off_hue | too_muted, np.inf, distances)
    return np.asarray(_ANCHOR_NAMES, dtype=object)[distances.argmin(axis=-1)]


def _kmeans(pixels: np.ndarray, k: int, *, iterations: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plain Lloyd k-means in Lab (Euclidean: ΔE76), deterministic (k-means++ seeded by ``seed``)."""
    rng = np.random.default_rng(seed)
    seeds = [pixels[rng.integers(len(pixels))]]
    for _ in range(1, k):
        d2 = np.min(((pixels[:, None, :] - np.asarray(seeds)[None]) ** 2).sum(-1), axis=1)
        if d2.sum() <= 0:
            break
        seeds.append(pixels[rng.choice(len(pixels), p=d2 / d2.sum())])
    centres = np.asarray(seeds, dtype=np.float64)
    for _ in range(iterations):
        labels = ((pixels[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
        moved = np.array(
            [pixels[labels == i].mean(axis=0) if np.any(labels == i) else centres[i] for i in range(len(centres))]
        )
        if np.allclose(moved, centres, atol=0.05):
            break
        centres = moved
    labels = ((pixels[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
    return centres, labels


def _merge_shades(by_name: dict[str, list[int]], centres: np.ndarray, counts: np.ndarray) -> None:
    """Shades of a coloured garment are named with it, in place.

    Folds in shadow and lit fabric of a muted colour measure close to a neutral: the dark half of
    a navy dress reads black, the lit and shaded halves of a blue-grey puffer read light grey and
    charcoal. A neutral name (:data:`NEUTRAL_FAMILIES`) whose measured colour (the mean of its
    clusters) is still tinted, chroma at least :data:`NEUTRAL_CHROMA`, joins a coloured name of the
    same garment when that name holds :data:`MIN_SHARE` of it on its own, their hues are within
    :data:`SHADE_HUE` degrees and their ΔE2000 is below :data:`SHADE_DELTA_E`. A neutral backed by
    untinted pixels (black leather with blue reflections) and prints in another hue or lightness
    keep their own names."""

    def measured(members: list[int]) -> np.ndarray:
        return (centres[members] * counts[members, None]).sum(axis=0) / counts[members].sum()

    def hue(lab: np.ndarray) -> float:
        return float(np.degrees(np.arctan2(lab[2], lab[1])) % 360)

    targets = [
        (name, measured(members))
        for name, members in by_name.items()
        if FAMILY[name] not in NEUTRAL_FAMILIES and counts[members].sum() >= MIN_SHARE * counts.sum()
    ]
    for name in [n for n in by_name if FAMILY[n] in NEUTRAL_FAMILIES]:
        lab = measured(by_name[name])
        if np.hypot(lab[1], lab[2]) < NEUTRAL_CHROMA:
            continue
        shades = [
            (float(delta_e_2000(lab, target_lab)), target)
            for target, target_lab in targets
            if abs((hue(lab) - hue(target_lab) + 180) % 360 - 180) <= SHADE_HUE
        ]
        distance, target = min(shades, default=(np.inf, None))
        if target is not None and distance < SHADE_DELTA_E:
            by_name[target] += by_name.pop(name)


def garment_colours(lab_pixels: np.ndarray, *, clusters: int = 6) -> list[NamedColour]:
    """One to three named colours with shares (summing to 1 over the named ones), main first.

    Clusters are named by the nearest anchor; a tinted neutral that is a shade of one of the
    garment's colours is named with it (:func:`_merge_shades`). Empty when there are too few garment pixels: the colour is then unknown."""
    pixels = np.asarray(lab_pixels, dtype=np.float64).reshape(-1, 3)
    if len(pixels) < MIN_PIXELS:
        return []
    if len(pixels) > 4000:
        pixels = pixels[np.linspace(0, len(pixels) - 1, 4000).astype(np.int64)]
    centres, labels = _kmeans(pixels, min(clusters, len(pixels)))
    counts = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    names = name_lab(centres)
    by_name: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        if counts[index] > 0:
            by_name.setdefault(str(name), []).append(index)
    _merge_shades(by_name, centres, counts)
    groups = []
    for name, members in by_name.items():
        share = counts[members].sum() / counts.sum()
        lab = (centres[members] * counts[members, None]).sum(axis=0) / counts[members].sum()
        groups.append((share, name, lab))
    groups.sort(key=lambda g: -g[0])
    kept = [g for g in groups if g[0] >= MIN_SHARE][:MAX_COLOURS] or groups[:1]
    total = sum(g[0] for g in kept)
    return [NamedColour(name, FAMILY[name], float(share / total), _lab_triple(lab)) for share, name, lab in kept]


def colour_features(lab_pixels: np.ndarray) -> np.ndarray:
    """The garment's colour signature over the palette: float32 of length ``len(PALETTE)``, unit L2 norm
    (all zeros when there are too few pixels to tell)."""
    pixels = np.asarray(lab_pixels, dtype=np.float64).reshape(-1, 3)
    if len(pixels) < MIN_PIXELS:
        return np.zeros(len(PALETTE), dtype=np.float32)
    if len(pixels) > 3000:
        pixels = pixels[np.linspace(0, len(pixels) - 1, 3000).astype(np.int64)]
    distances = delta_e_2000(pixels[:, None, :], PALETTE_LAB[None])
    weights = np.exp(-0.5 * (distances / FEATURE_SIGMA) ** 2)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
    histogram = np.sqrt(weights.mean(axis=0))
    return (histogram / max(np.linalg.norm(histogram), 1e-9)).astype(np.float32)


def mean_lab(colours: list[NamedColour] | list[dict]) -> np.ndarray | None:
    """The share-weighted mean Lab of named colours (the garment's colour for ΔE comparisons)."""
    if not colours:
        return None
    labs = np.array([c.lab if isinstance(c, NamedColour) else c["lab"] for c in colours], dtype=np.float64)
    shares = np.array([c.share if isinstance(c, NamedColour) else c["share"] for c in colours], dtype=np.float64)
    return (labs * shares[:, None]).sum(axis=0) / shares.sum()
