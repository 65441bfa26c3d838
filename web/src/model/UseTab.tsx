// The model's own UI: its description, its init components as a form, and a Run button that
// starts a run and opens it at its own address.

import { modelRef, startRun } from "../api/endpoints";
import type { Environment, Json, VersionDetail } from "../api/types";
import { navigate, runHref } from "../router";
import { remember } from "../run/cache";
import { StepForm } from "../run/StepForm";
import { Markdown } from "../widgets/views/Markdown";

interface Props {
  detail: VersionDetail;
  /** The version as the address names it; absent: the latest. */
  version: string | undefined;
  env: Environment | null;
}

export function UseTab({ detail, version, env }: Props) {
  const m = detail.manifest;
  const first = m.steps[0];
  return (
    <div class="use-tab">
      {m.description && <Markdown text={m.description} class="description" />}
      {env?.status === "failed" && (
        <div class="error-box" role="alert">
          <p class="error-title">This version's environment could not be built</p>
          <p class="error-message">{env.reason ?? "See the Versions tab for the build log."}</p>
        </div>
      )}
      <section class="card" aria-labelledby="try-it">
        <h2 id="try-it" class="step-heading">
          {m.steps.length > 1 && <span class="step-heading-n">Step 1 of {m.steps.length}</span>} {first?.title ?? "Run"}
        </h2>
        {first?.description && <Markdown text={first.description} class="step-description" />}
        <StepForm
          key={`${detail.owner}/${detail.name}@${detail.version}`}
          formId="init"
          components={m.init}
          examples={(m.examples ?? []) as Record<string, Json>[]}
          submitLabel="Run"
          onSubmit={async (inputs) => {
            const run = await startRun(modelRef(detail.owner, detail.name, version), inputs);
            remember(run);
            navigate(runHref(run.id));
            window.scrollTo(0, 0);
          }}
        />
      </section>
    </div>
  );
}
