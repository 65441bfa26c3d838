// Where a run is: each step of the model, done, failed, waiting for answers, or to come.

import type { RunView, Step } from "../api/types";

export type StepState = "done" | "failed" | "current" | "upcoming";

export function stepStates(steps: readonly Step[], run: RunView): StepState[] {
  return steps.map((_, i) => {
    const record = run.steps.find((s) => s.index === i);
    if (record) return record.error ? "failed" : "done";
    if (run.next?.index === i) return "current";
    return "upcoming";
  });
}

const WORDS: Record<StepState, string> = {
  done: "done",
  failed: "failed",
  current: "waiting for your answers",
  upcoming: "to come",
};

export function StepIndicator({ steps, run }: { steps: readonly Step[]; run: RunView }) {
  const states = stepStates(steps, run);
  return (
    <ol class="step-indicator" aria-label="Steps">
      {steps.map((s, i) => (
        <li key={s.name} class={`step step--${states[i]}`} aria-current={states[i] === "current" ? "step" : undefined}>
          <span class="step-number" aria-hidden="true">
            {states[i] === "done" ? "✓" : states[i] === "failed" ? "!" : i + 1}
          </span>
          <span class="step-title">{s.title}</span>
          <span class="visually-hidden">, {WORDS[states[i]!]}</span>
        </li>
      ))}
    </ol>
  );
}
