// The form of one step: its components in order (views shown, inputs answered), checked here
// first, files uploaded, then sent; the server's problems land beside their fields.

import { useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { uploadFile } from "../api/endpoints";
import type { Component, FileRef, InputComponent, Json } from "../api/types";
import { useBundle } from "../catalogue/bundle";
import { checkValues } from "../catalogue/check";
import { exampleRefs, loadExample } from "../catalogue/examples";
import { isImage, refName, refUrl } from "../catalogue/files";
import { isInput } from "../catalogue/kinds";
import { type FieldErrors, fieldErrors } from "../catalogue/problems";
import { exampleValues, initialValues, takesExampleFiles, type Values } from "../catalogue/values";
import { toInputs, UploadError } from "../catalogue/wire";
import { useFileUrl } from "../hooks/useFileUrl";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";
import { ComponentInput } from "../widgets/ComponentInput";
import { ComponentView } from "../widgets/ComponentView";

interface Props {
  formId: string;
  components: readonly Component[];
  submitLabel: string;
  /** Sends the inputs; throws the API's error when the server refuses them. */
  onSubmit: (inputs: Record<string, Json>) => Promise<void>;
  /** Values that fill the form at a click, by component id. */
  examples?: readonly Record<string, Json>[];
}

const NO_ERRORS: FieldErrors = { fields: {}, general: [] };

export function StepForm({ formId, components, submitLabel, onSubmit, examples = [] }: Props) {
  const inputs = useMemo(() => components.filter(isInput) as InputComponent[], [components]);
  const [values, setValues] = useState<Values>(() => initialValues(inputs));
  const [errors, setErrors] = useState<FieldErrors>(NO_ERRORS);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const bundle = useBundle();

  const showProblems = (e: FieldErrors) => {
    setErrors(e);
    // The first field to fix gets the focus, so keyboard and screen-reader users land on it.
    requestAnimationFrame(() => {
      form.current?.querySelector<HTMLElement>("[aria-invalid=true], .field--invalid input, .field--invalid select")?.focus();
    });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setFailure(null);
    const problems = checkValues(inputs, values);
    if (problems.length) return showProblems(fieldErrors(problems, inputs));
    setErrors(NO_ERRORS);
    try {
      setBusy("Running…");
      const sent = await toInputs(inputs, values, uploadFile, (left) =>
        setBusy(left ? `Uploading ${left} file${left === 1 ? "" : "s"}…` : "Running…"),
      );
      await onSubmit(sent);
    } catch (err) {
      if (err instanceof UploadError) showProblems(fieldErrors(err.problems, inputs));
      else if (err instanceof ApiError && err.problems.length) {
        const mapped = fieldErrors(err.problems, inputs);
        showProblems(mapped);
        if (mapped.general.length) setFailure(err);
      } else setFailure(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <form ref={form} class="step-form" onSubmit={submit} aria-busy={busy ? "true" : "false"} noValidate>
      {components.map((c) =>
        isInput(c) ? (
          <ComponentInput
            key={c.id}
            c={c}
            formId={formId}
            value={values[c.id]}
            errors={errors.fields[c.id] ?? []}
            onChange={(v) => {
              setValues((old) => ({ ...old, [c.id]: v }));
              // A corrected field drops its old messages.
              if (errors.fields[c.id]) setErrors((old) => ({ ...old, fields: { ...old.fields, [c.id]: [] } }));
            }}
            disabled={busy !== null}
          />
        ) : (
          <ComponentView key={c.id} c={c} />
        ),
      )}
      {errors.general.length > 0 && (
        <ul class="field-errors" role="alert">
          {errors.general.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      {failure !== null && <ErrorBox error={failure} />}
      <div class="form-actions">
        <button type="submit" class="button button--primary" disabled={busy !== null}>
          {busy ? "Working…" : submitLabel}
        </button>
        {busy && <Busy text={busy} />}
      </div>
      {examples.length > 0 && (
        <Examples
          inputs={inputs}
          examples={examples}
          disabled={busy !== null}
          onPick={async (example) => {
            setFailure(null);
            if (!inputs.some((c) => takesExampleFiles(c) && c.id in example)) {
              setValues(exampleValues(inputs, example));
              setErrors(NO_ERRORS);
              return;
            }
            setBusy("Loading the example…");
            try {
              setValues(await loadExample(inputs, example, bundle));
              setErrors(NO_ERRORS);
            } catch (err) {
              setFailure(err);
            } finally {
              setBusy(null);
            }
          }}
        />
      )}
    </form>
  );
}

/** The examples as a table, one row each, a button to fill the form with it. */
function Examples({
  inputs,
  examples,
  disabled,
  onPick,
}: {
  inputs: readonly InputComponent[];
  examples: readonly Record<string, Json>[];
  disabled: boolean;
  onPick: (example: Record<string, Json>) => void | Promise<void>;
}) {
  const shown = inputs.filter((c) => examples.some((e) => c.id in e));
  return (
    <section class="examples" aria-label="Examples">
      <h3 class="examples-title">Examples</h3>
      <div class="table-scroll">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">
                <span class="visually-hidden">Fill</span>
              </th>
              {shown.map((c) => (
                <th key={c.id} scope="col">
                  {c.title ?? c.id}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {examples.map((e, i) => (
              <tr key={i}>
                <td>
                  <button
                    type="button"
                    class="button button--small"
                    disabled={disabled}
                    aria-label={`Fill the form with example ${i + 1}`}
                    onClick={() => onPick(e)}
                  >
                    Use
                  </button>
                </td>
                {shown.map((c) => (
                  <td key={c.id}>
                    <ExampleCell c={c} v={e[c.id]} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** An example's value as its table shows it: files as thumbnails or names, values as text. */
function ExampleCell({ c, v }: { c: InputComponent; v: Json | undefined }) {
  const bundle = useBundle();
  if (v === undefined) return null;
  if (!takesExampleFiles(c)) return <>{typeof v === "string" ? v : JSON.stringify(v)}</>;
  return (
    <span class="example-files">
      {exampleRefs(v).map((ref, i) => (
        <ExampleFile key={i} file={ref} address={refUrl(ref, bundle)} />
      ))}
    </span>
  );
}

function ExampleFile({ file, address }: { file: FileRef; address: string | null }) {
  const url = useFileUrl(address);
  return url && isImage(file) ? (
    <img class="thumb" src={url} alt={refName(file)} />
  ) : (
    <span class="file-name">{refName(file)}</span>
  );
}
