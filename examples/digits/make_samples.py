"""Writes sample inputs for the digits and review examples into samples/, from the dataset.

`digit-N.png` is the dataset's first N, drawn dark on white with a margin, as a scan would be;
`digit-N-dark.jpg` is the same digit light on dark, as a JPEG, for the other branch of the
preprocessing. Nothing is downloaded: the images come with scikit-learn.
"""

from pathlib import Path

from PIL import ImageOps
from sklearn.datasets import load_digits

from digits import render

SAMPLES = Path(__file__).with_name("samples")


def main() -> None:
    data = load_digits()
    SAMPLES.mkdir(exist_ok=True)
    for digit in range(10):
        first = int((data.target == digit).argmax())
        image = ImageOps.expand(render(data.images[first], scale=16), border=24, fill=255)
        image.save(SAMPLES / f"digit-{digit}.png")
        if digit in (4, 7):
            ImageOps.invert(image).save(SAMPLES / f"digit-{digit}-dark.jpg", quality=90)
    print(f"wrote {len(list(SAMPLES.iterdir()))} images into {SAMPLES}")


if __name__ == "__main__":
    main()
