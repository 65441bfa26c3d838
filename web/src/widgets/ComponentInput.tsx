// One input component as a labelled field: picks the widget for its type.

import type { InputComponent } from "../api/types";
import { titleOf } from "../catalogue/kinds";
import { describedBy, Field } from "./Field";
import { CheckboxInput, SelectMultiInput, SelectOneInput } from "./inputs/choice";
import { FileUploadInput, ImageUploadInput } from "./inputs/files";
import { DocumentTextInput, ImageSelectMultiInput, ImageSelectOneInput, ImageTextInput } from "./inputs/media";
import { NumberInput, SliderInput } from "./inputs/number";
import { TableInput } from "./inputs/table";
import { TensorInput } from "./inputs/tensor";
import { TextInput } from "./inputs/text";
import type { InputProps } from "./types";

interface Props {
  c: InputComponent;
  value: unknown;
  onChange: (v: unknown) => void;
  /** Makes ids unique when several forms share a page. */
  formId: string;
  errors?: readonly string[];
  disabled?: boolean;
}

/** Whether a component is several controls, named by a legend rather than one label. */
function isGroup(c: InputComponent): boolean {
  switch (c.type) {
    case "Text.In":
      return (c.num_inputs ?? 1) > 1;
    case "List.SelectOne":
      return c.style !== "dropdown";
    case "List.SelectMulti":
      return c.style !== "dropdown";
    case "Image.WithSelectOne":
    case "Image.WithSelectMulti":
    case "Image.WithTextIn":
    case "Document.WithTextIn":
    case "Table.In":
      return true;
    default:
      return false;
  }
}

function Widget(p: InputProps<InputComponent, unknown>) {
  // Each widget is typed by its component; the value was made for that type (values.ts).
  const q = p as InputProps<any, any>;
  switch (p.c.type) {
    case "Text.In":
      return <TextInput {...q} />;
    case "Number.In":
      return <NumberInput {...q} />;
    case "Slider":
      return <SliderInput {...q} />;
    case "Checkbox":
      return <CheckboxInput {...q} />;
    case "List.SelectOne":
      return <SelectOneInput {...q} />;
    case "List.SelectMulti":
      return <SelectMultiInput {...q} />;
    case "File.Upload":
      return <FileUploadInput {...q} />;
    case "Image.Upload":
      return <ImageUploadInput {...q} />;
    case "Image.WithSelectOne":
      return <ImageSelectOneInput {...q} />;
    case "Image.WithSelectMulti":
      return <ImageSelectMultiInput {...q} />;
    case "Image.WithTextIn":
      return <ImageTextInput {...q} />;
    case "Document.WithTextIn":
      return <DocumentTextInput {...q} />;
    case "Table.In":
      return <TableInput {...q} />;
    case "Tensor.In":
      return <TensorInput {...q} />;
    default:
      return <p class="muted">This portal cannot show an input of type {(p.c as { type: string }).type}.</p>;
  }
}

export function ComponentInput({ c, value, onChange, formId, errors = [], disabled }: Props) {
  const id = `${formId}-${c.id}`;
  return (
    <Field
      id={id}
      title={titleOf(c)}
      description={c.description}
      required={c.required !== false}
      errors={errors}
      group={isGroup(c)}
      inline={c.type === "Checkbox"}
    >
      <Widget
        c={c}
        value={value}
        onChange={onChange}
        id={id}
        invalid={errors.length > 0}
        describedBy={describedBy(id, c.description, errors)}
        disabled={disabled ?? false}
      />
    </Field>
  );
}
