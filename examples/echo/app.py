"""Text in, the same text out: the smallest round trip, to measure the platform itself."""

import feather as ftr


@ftr.step(title="Echo", description="Returns the text unchanged.")
def echo(text: str) -> ftr.Text.View:
    return ftr.Text.View(id="echo", text=text)


ftr.build(
    "echo",
    init=[ftr.Text.In(id="text", title="Text", max_chars=1_000_000, multiline=True)],
    steps=[echo],
    description="Returns its input unchanged; used to benchmark the server and its workers.",
    tags=["demo", "benchmark"],
)
