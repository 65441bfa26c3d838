// A run at its own address: the step indicator, each step that ran, and the form of the step
// that waits for answers. Reopening the address (after a reload, on another device) shows it all.

import { answerRun, getRun, getVersion } from "../api/endpoints";
import type { Component, RunView, VersionDetail } from "../api/types";
import { BundleContext } from "../catalogue/bundle";
import { isInput } from "../catalogue/kinds";
import { useAsync } from "../hooks/useAsync";
import { useTitle } from "../hooks/useTitle";
import { homeHref, modelHref } from "../router";
import { recall } from "../run/cache";
import { StepForm } from "../run/StepForm";
import { StepIndicator } from "../run/StepIndicator";
import { StepRecord } from "../run/StepRecord";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";
import { Markdown } from "../widgets/views/Markdown";

const STATUS: Record<string, string> = {
  awaiting_input: "Waiting for your answers",
  running: "Running a step (answered from elsewhere); reload to see its outcome",
  completed: "Completed",
  failed: "Failed",
};

function split(model: string): [string, string] {
  const i = model.indexOf("/");
  return [model.slice(0, i), model.slice(i + 1)];
}

export function RunPage({ id }: { id: string }) {
  const run = useAsync<RunView>(() => {
    const cached = recall(id);
    return cached ? Promise.resolve(cached) : getRun(id);
  }, [id]);
  const r = run.data;
  const version = useAsync<VersionDetail | null>(
    () => (r ? getVersion(...split(r.model), r.version) : Promise.resolve(null)),
    [r?.model, r?.version],
  );
  useTitle(r ? `Run of ${r.model}` : "Run");

  if (run.error) return <ErrorBox error={run.error} />;
  if (!r) return <Busy text="Loading the run…" />;
  const [owner, name] = split(r.model);
  const manifest = version.data?.manifest;
  // Each step answered what the one before it asked; the first answered the model's init.
  const asked = (i: number): Component[] =>
    i === 0 ? (manifest?.init ?? []) : (r.steps.find((s) => s.index === i - 1)?.outputs.filter(isInput) ?? []);

  return (
    <BundleContext.Provider value={{ owner, name, version: r.version }}>
      <div class="page run-page">
        <header class="page-header">
          <p class="crumbs">
            <a href={homeHref()}>Models</a>
            <span aria-hidden="true"> / </span>
            <a href={modelHref(owner, name)}>{r.model}</a>
          </p>
          <div class="title-row">
            <h1>{manifest?.title ?? name}</h1>
            <span class={`badge badge--${r.status}`}>{STATUS[r.status] ?? r.status}</span>
          </div>
          <p class="muted run-meta">
            Run <code>{r.id}</code> of <a href={modelHref(owner, name, r.version)}>version {r.version}</a>, started{" "}
            {new Date(r.created_at).toLocaleString()}
          </p>
          <p>
            <a class="button" href={modelHref(owner, name, r.version)}>
              New run
            </a>
          </p>
        </header>
        {manifest && manifest.steps.length > 1 && <StepIndicator steps={manifest.steps} run={r} />}
        {version.error !== undefined && <ErrorBox error={version.error} />}
        {r.steps.map((s) => (
          <StepRecord key={s.index} step={s} asked={asked(s.index)} />
        ))}
        {r.next && (
          <section class="card step-next" aria-labelledby="next-step">
            <h2 id="next-step" class="step-heading">
              <span class="step-heading-n">Step {r.next.index + 1}</span> {r.next.title}
            </h2>
            {r.next.description && <Markdown text={r.next.description} class="step-description" />}
            <StepForm
              key={`${r.id}-${r.next.index}`}
              formId={`next${r.next.index}`}
              components={r.next.components}
              submitLabel={manifest && r.next.index === manifest.steps.length - 1 ? "Finish" : "Continue"}
              onSubmit={async (inputs) => {
                try {
                  run.set(await answerRun(r.id, inputs));
                } catch (e) {
                  // A failed step is recorded in the run: show it as the run now stands.
                  if (e && typeof e === "object" && "status" in e && (e as { status: number }).status >= 500) run.reload();
                  throw e;
                }
              }}
            />
          </section>
        )}
      </div>
    </BundleContext.Provider>
  );
}
