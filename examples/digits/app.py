"""Handwritten digits: a picture of one digit in, how likely each of 0 to 9 is out."""

import feather as ftr
from digits import REQUIREMENTS, features, load_model

model = load_model()


@ftr.step(title="Classify", description="Reads the digit in the picture.")
def classify(image: ftr.UploadedFile) -> ftr.Label:
    p = model.predict_proba([features(image)])[0]
    return ftr.Label(confidences=dict(zip(model.classes_.tolist(), p.tolist(), strict=True)))


image = ftr.Image.Upload(id="image", title="A digit", types=["image/png", "image/jpeg"])
files = ftr.bundle(["app.py", "digits.py", "model.pkl"])
samples = ["samples/digit-3.png", "samples/digit-7.png", "samples/digit-4-dark.jpg"]
ftr.build(
    "digits", [image], [classify], requirements=REQUIREMENTS, file_bundle=files, examples=samples
)
