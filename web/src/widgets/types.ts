// What every input widget receives: its component, its value, and the ids that tie it to its
// label, help text and error messages.

export interface InputProps<C, V> {
  c: C;
  value: V;
  onChange: (v: V) => void;
  /** The id of the control a `<label for>` names (or of the group). */
  id: string;
  invalid: boolean;
  /** Ids of the help text and error list, for aria-describedby. */
  describedBy: string | undefined;
  /** A past step's answer, shown but not editable. */
  disabled?: boolean;
}

/** The attributes that tie a control to its field's help and errors. */
export function aria(p: { invalid: boolean; describedBy: string | undefined }) {
  return {
    "aria-invalid": p.invalid ? ("true" as const) : undefined,
    "aria-describedby": p.describedBy,
  };
}
