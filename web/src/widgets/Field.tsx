// A labelled field: its title (a label for one control, a legend for a group of controls),
// its help text, and its error messages right beside it.

import type { ComponentChildren } from "preact";

interface Props {
  id: string;
  title: string;
  description?: string | undefined;
  required: boolean;
  errors: readonly string[];
  /** Several controls (radios, one field per image): a fieldset with a legend. */
  group: boolean;
  /** A checkbox reads best with its label after it. */
  inline?: boolean;
  children: ComponentChildren;
}

export const helpId = (id: string) => `${id}-help`;
export const errorId = (id: string) => `${id}-error`;

/** The aria-describedby value of a field's control. */
export function describedBy(id: string, description: string | undefined, errors: readonly string[]): string | undefined {
  const ids = [description ? helpId(id) : null, errors.length ? errorId(id) : null].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function Field({ id, title, description, required, errors, group, inline, children }: Props) {
  const optional = required ? null : <span class="optional"> (optional)</span>;
  const help = description ? (
    <p class="field-help" id={helpId(id)}>
      {description}
    </p>
  ) : null;
  const problems = errors.length ? (
    <ul class="field-errors" id={errorId(id)} role="alert">
      {errors.map((e, i) => (
        <li key={i}>{e}</li>
      ))}
    </ul>
  ) : null;
  const cls = `field${errors.length ? " field--invalid" : ""}${inline ? " field--inline" : ""}`;
  if (group) {
    return (
      <fieldset class={cls} aria-describedby={describedBy(id, description, errors)}>
        <legend class="field-title">
          {title}
          {optional}
        </legend>
        {help}
        {children}
        {problems}
      </fieldset>
    );
  }
  return (
    <div class={cls}>
      {inline ? null : (
        <label class="field-title" for={id}>
          {title}
          {optional}
        </label>
      )}
      {help}
      {inline ? (
        <div class="inline-control">
          {children}
          <label for={id}>
            {title}
            {optional}
          </label>
        </div>
      ) : (
        children
      )}
      {problems}
    </div>
  );
}
