// What a past step was answered with: the same widgets, read-only, and files as links.

import type { Component, FileRef } from "../api/types";
import { isInput, titleOf } from "../catalogue/kinds";
import { ComponentInput } from "../widgets/ComponentInput";
import { FileLinks } from "../widgets/views/files";

interface Props {
  formId: string;
  components: readonly Component[];
  /** Values as the server stored them, one per answered input. */
  answers: Record<string, unknown>;
}

export function Answers({ formId, components, answers }: Props) {
  const inputs = components.filter(isInput).filter((c) => c.id in answers);
  if (inputs.length === 0) return null;
  return (
    <div class="answers">
      {inputs.map((c) => {
        const v = answers[c.id];
        if (c.type === "File.Upload" || c.type === "Image.Upload") {
          const files = (Array.isArray(v) ? v : v ? [v] : []) as unknown as FileRef[];
          return (
            <div class="field" key={c.id}>
              <p class="field-title">{titleOf(c)}</p>
              <FileLinks files={files} />
            </div>
          );
        }
        return <ComponentInput key={c.id} c={c} formId={formId} value={v} onChange={() => {}} disabled />;
      })}
    </div>
  );
}
