"""The smallest feather model: text in, the same text in capitals out."""

import feather as ftr


@ftr.step(title="Shout", description="Returns your text in capitals.")
def shout(text: str) -> ftr.Text.View:
    return ftr.Text.View(text=text.upper())


ftr.build(
    "shout",
    init=[ftr.Text.In(id="text", title="Something to shout", max_chars=200)],
    steps=[shout],
    description="Type something; get it back **louder**.",
    tags=["demo"],
)
