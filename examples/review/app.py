"""A person checks the digits model: it offers its three likeliest labels per image."""

import feather as ftr
from digits import REQUIREMENTS, features
from review import summary, top_labels


@ftr.step(title="Guess", description="Pick the right label of each image; likeliest first.")
def guess(images: list[ftr.UploadedFile]) -> list:
    x = [features(image) for image in images]
    return [ftr.Image.WithSelectOne(id="labels", images=images, lists=top_labels(x)), x]


@ftr.step(title="Summary", description="The model's guesses against yours, and a CSV.")
def summarize(labels: list[str], state: list) -> list:
    return summary(state, labels)


upload = ftr.File.Upload(id="images", types=["image/png", "image/jpeg"], min_files=1, max_files=20)
files = ftr.bundle(["app.py", "digits.py", "model.pkl", "review.py"])
ftr.build("review", [upload], [guess, summarize], requirements=REQUIREMENTS, file_bundle=files)
