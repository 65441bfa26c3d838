"""Digit images to the model's inputs and back; shared with the review example.

The model reads what `sklearn.datasets.load_digits()` holds: 64 numbers, an 8x8 grid of ink
levels from 0 (paper) to 16 (ink). `features` turns any picture of one digit into such a grid;
`render` draws a grid as a picture, so the dataset itself provides sample inputs. The model is
trained on `features(render(grid))` rather than on the grids themselves, so it sees exactly the
preprocessing a request goes through.
"""

from __future__ import annotations

import io
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

REQUIREMENTS = ["scikit-learn==1.9.1", "pillow==13.0.0"]
"""The model's environment. scikit-learn is the version that pickles model.pkl: a pickled
estimator loads reliably only in the version that wrote it."""

MODEL = Path(__file__).with_name("model.pkl")
INK = 0.2
"""The fraction of the darkest stroke above which a pixel counts as ink when cropping."""


@cache
def load_model() -> Any:
    """The classifier in model.pkl beside this file (see train.py); its classes are "0".."9"."""
    return pickle.loads(MODEL.read_bytes())


def render(grid: Any, scale: int = 8) -> Image.Image:
    """A grid of 0..16 (8x8, as in `load_digits().images`) drawn as dark ink on white paper,
    each cell `scale` pixels wide, as a scan or a drawing would show it."""
    levels = 255 - np.asarray(grid, dtype=float) * (255 / 16)
    image = Image.fromarray(levels.round().astype(np.uint8))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def features(image: Any) -> np.ndarray:
    """The 64 inputs of the model for a picture of one digit: a path, path-like object (such as
    an `ftr.UploadedFile`), bytes, a file object or a PIL image.

    The picture is made grayscale (transparent parts count as paper), inverted when its
    background is light so that ink is bright, cropped to the ink, centred in a square (the
    dataset's digits fill their height and keep their proportions), reduced to 8x8 by averaging
    and scaled so that the strongest ink is 16.
    """
    gray = _grayscale(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray, border = 255 - gray, 255 - border
    # Less the paper's level and three times its noise (a robust deviation): grain and shadows
    # on a photographed page would otherwise count as faint ink and widen the crop.
    level = np.median(border)
    ink = np.clip(gray - level - 3 * 1.4826 * np.median(np.abs(border - level)), 0, None)
    if ink.max() <= 0:
        return np.zeros(64)
    strokes = ink > INK * ink.max()
    rows, cols = np.flatnonzero(strokes.any(axis=1)), np.flatnonzero(strokes.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(crop.shape)
    square = np.zeros((side, side))
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    # BOX averages each cell, as the dataset counted the ink pixels of each 4x4 block.
    small = Image.fromarray(square.astype(np.float32)).resize((8, 8), Image.Resampling.BOX)
    small = np.asarray(small, dtype=float)
    return (small * (16 / small.max())).ravel()


def _grayscale(image: Any) -> np.ndarray:
    if isinstance(image, Image.Image):
        return _flatten(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = io.BytesIO(bytes(image))
    elif isinstance(image, os.PathLike):
        image = os.fspath(image)
    with Image.open(image) as opened:
        # Phone photos are stored sideways with a rotation tag.
        return _flatten(ImageOps.exif_transpose(opened))


def _flatten(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=float)
