// Renders one input component with live state, and records every value it produces.

import { render } from "@testing-library/preact";
import { useState } from "preact/hooks";
import type { InputComponent } from "../api/types";
import { initialValue } from "../catalogue/values";
import { ComponentInput } from "../widgets/ComponentInput";

export function renderInput(c: InputComponent, errors: string[] = []) {
  const values: unknown[] = [];
  function Host() {
    const [v, setV] = useState<unknown>(initialValue(c));
    return (
      <ComponentInput
        c={c}
        formId="t"
        value={v}
        errors={errors}
        onChange={(x) => {
          values.push(x);
          setV(x);
        }}
      />
    );
  }
  const r = render(<Host />);
  return { ...r, values, last: () => values[values.length - 1] };
}

export function file(name: string, type: string, size = 10): File {
  const f = new File(["x".repeat(Math.min(size, 64))], name, { type });
  // The size checked is the one the browser reports; large files need not be built for real.
  Object.defineProperty(f, "size", { value: size });
  return f;
}
