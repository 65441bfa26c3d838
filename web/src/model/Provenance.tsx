// Where a version came from: the SDK, Python and platform it was built with, the installed
// packages, its git commit (and whether the tree had uncommitted changes), what it runs on (its
// Python and requirements, or for an ONNX model its file and the graph's signature) and, for a
// model deployed from a framework's object, that object: framework, saved file, and why it is
// served the way it is.

import type { Manifest } from "../api/types";

type Runtime = Manifest["runtime"];
type Onnx = Extract<Runtime, { kind: "onnx" }>;
type Python = Extract<Runtime, { kind: "python" }>;
type Deployed = NonNullable<Manifest["model"]>;

export function ProvenanceTable({ manifest }: { manifest: Manifest }) {
  const p = manifest.provenance;
  const packages = Object.entries(p.packages ?? {});
  const rt = manifest.runtime;
  return (
    <dl class="facts">
      {rt.kind === "python" ? (
        <>
          <dt>Python</dt>
          <dd>
            {p.python} <span class="muted">(runs on {rt.python})</span>
          </dd>
        </>
      ) : (
        <>
          <dt>Runs on</dt>
          <dd>ONNX Runtime, inside the server (no Python)</dd>
        </>
      )}
      <dt>Platform</dt>
      <dd>{p.platform}</dd>
      <dt>SDK</dt>
      <dd>{p.sdk}</dd>
      <dt>Git</dt>
      <dd>
        {p.git ? (
          <>
            <code title={p.git.commit}>{p.git.commit.slice(0, 12)}</code>
            {p.git.branch && <span> on {p.git.branch}</span>}
            {p.git.dirty ? (
              <span class="badge badge--warn">uncommitted changes</span>
            ) : (
              <span class="badge badge--ok">clean</span>
            )}
          </>
        ) : (
          <span class="muted">not from a git repository</span>
        )}
      </dd>
      <dt>Packages</dt>
      <dd>
        {packages.length ? (
          <ul class="inline-list">
            {packages.map(([name, v]) => (
              <li key={name}>
                <code>
                  {name}=={v}
                </code>
              </li>
            ))}
          </ul>
        ) : (
          <span class="muted">none recorded</span>
        )}
      </dd>
      {rt.kind === "python" ? <PythonFacts rt={rt} /> : <OnnxFacts rt={rt} />}
      {manifest.model && <DeployedFacts model={manifest.model} native={rt.kind === "onnx"} />}
    </dl>
  );
}

function PythonFacts({ rt }: { rt: Python }) {
  return (
    <>
      <dt>Requirements</dt>
      <dd>
        {rt.requirements.length ? (
          <ul class="inline-list">
            {rt.requirements.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        ) : (
          <span class="muted">none</span>
        )}
      </dd>
      <dt>Entry</dt>
      <dd>
        <code>{rt.entry}</code>
      </dd>
    </>
  );
}

const shape = (s?: number[]) => (s ? `[${s.map((d) => (d < 0 ? "any" : d)).join(", ")}]` : "");

function OnnxFacts({ rt }: { rt: Onnx }) {
  const sig = rt.signature;
  const list = (items: NonNullable<Onnx["signature"]>["inputs"]) => (
    <ul class="inline-list">
      {items.map((t) => (
        <li key={t.name}>
          <code>
            {t.name}: {t.type}
            {shape(t.shape)}
          </code>
        </li>
      ))}
    </ul>
  );
  return (
    <>
      <dt>Model</dt>
      <dd>
        <code>{rt.file}</code>
      </dd>
      {sig && (
        <>
          <dt>Inputs</dt>
          <dd>{list(sig.inputs)}</dd>
          <dt>Outputs</dt>
          <dd>{list(sig.outputs)}</dd>
        </>
      )}
    </>
  );
}

function DeployedFacts({ model, native }: { model: Deployed; native: boolean }) {
  const parity = model.served.parity;
  return (
    <>
      <dt>Deployed from</dt>
      <dd>
        a {model.framework.name} {model.framework.version} {model.task === "other" ? "model" : model.task} model,
        saved as <code>{model.file}</code> ({model.format})
      </dd>
      {model.classes && (
        <>
          <dt>Classes</dt>
          <dd>
            <ul class="inline-list">
              {model.classes.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
      <dt>Served</dt>
      <dd>
        <span class={`badge ${native ? "badge--ok" : ""}`}>{native ? "natively" : `with ${model.framework.name}`}</span>{" "}
        {model.served.reason}
      </dd>
      {parity && (
        <>
          <dt>Parity</dt>
          <dd>
            {parity.rows} sample row{parity.rows === 1 ? "" : "s"}, largest difference{" "}
            {parity.max_difference.toPrecision(2)} (tolerance {parity.tolerance})
          </dd>
        </>
      )}
    </>
  );
}
