// Which catalogue types take an answer and which only show something.

import type { Component, InputComponent, ViewComponent } from "../api/types";

const INPUTS = new Set<string>([
  "Text.In",
  "Number.In",
  "Slider",
  "Checkbox",
  "List.SelectOne",
  "List.SelectMulti",
  "File.Upload",
  "Image.Upload",
  "Image.WithSelectOne",
  "Image.WithSelectMulti",
  "Image.WithTextIn",
  "Document.WithTextIn",
  "Table.In",
  "Tensor.In",
]);

export function isInput(c: Component): c is InputComponent {
  return INPUTS.has(c.type);
}

export function isView(c: Component): c is ViewComponent {
  return !INPUTS.has(c.type);
}

/** A component's title, or its id made readable. */
export function titleOf(c: { id: string; title?: string }): string {
  if (c.title) return c.title;
  const words = c.id.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
