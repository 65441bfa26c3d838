// One step of a run's history: what it was answered with, what it showed, or why it failed.

import type { Component, StepView } from "../api/types";
import { isView } from "../catalogue/kinds";
import { ComponentView } from "../widgets/ComponentView";
import { Answers } from "./Answers";

interface Props {
  step: StepView;
  /** The components this step answered: the model's init for the first, else the previous step's inputs. */
  asked: readonly Component[];
}

export function StepRecord({ step, asked }: Props) {
  const views = step.outputs.filter(isView);
  return (
    <section class="card step-record" aria-labelledby={`step-${step.index}`}>
      <h2 id={`step-${step.index}`} class="step-heading">
        <span class="step-heading-n">Step {step.index + 1}</span> {step.title || step.name}
      </h2>
      {step.inputs && <Answers formId={`s${step.index}`} components={asked} answers={step.inputs} />}
      {step.error ? (
        <div class="error-box" role="alert">
          <p class="error-title">This step failed</p>
          <p class="error-message">{step.error.message}</p>
        </div>
      ) : views.length ? (
        <div class="outputs">
          {views.map((c, i) => (
            <ComponentView key={`${c.id}-${i}`} c={c} />
          ))}
        </div>
      ) : null}
    </section>
  );
}
