// One view component (a step's output) under its title: picks the view for its type.

import type { ViewComponent } from "../api/types";
import { FileDownloadOut, ImageOut } from "./views/files";
import { LabelOut } from "./views/Label";
import { TableOut } from "./views/Table";
import { DocumentOut, JsonOut, MarkdownOut, NumberOut, TextOut } from "./views/text";

function View({ c }: { c: ViewComponent }) {
  switch (c.type) {
    case "Text.View":
      return <TextOut c={c} />;
    case "Markdown.View":
      return <MarkdownOut c={c} />;
    case "Number.View":
      return <NumberOut c={c} />;
    case "Json.View":
      return <JsonOut c={c} />;
    case "Label":
      return <LabelOut c={c} />;
    case "Table.View":
      return <TableOut c={c} />;
    case "Image.View":
      return <ImageOut c={c} />;
    case "Document.View":
      return <DocumentOut c={c} />;
    case "File.Download":
      return <FileDownloadOut c={c} />;
    default:
      // A type newer than this portal: its props are still worth seeing.
      return <JsonOut c={{ id: "", type: "Json.View", data: c as never }} />;
  }
}

export function ComponentView({ c }: { c: ViewComponent }) {
  return (
    <section class="output" aria-label={c.title ?? c.type}>
      {c.title && <h3 class="output-title">{c.title}</h3>}
      {c.description && <p class="field-help">{c.description}</p>}
      <View c={c} />
    </section>
  );
}
