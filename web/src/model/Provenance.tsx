// Where a version came from: the SDK, Python and platform it was built with, the installed
// packages, its git commit (and whether the tree had uncommitted changes), and its requirements.

import type { Manifest } from "../api/types";

export function ProvenanceTable({ manifest }: { manifest: Manifest }) {
  const p = manifest.provenance;
  const packages = Object.entries(p.packages ?? {});
  return (
    <dl class="facts">
      <dt>Python</dt>
      <dd>
        {p.python} <span class="muted">(runs on {manifest.runtime.python})</span>
      </dd>
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
      <dt>Requirements</dt>
      <dd>
        {manifest.runtime.requirements.length ? (
          <ul class="inline-list">
            {manifest.runtime.requirements.map((r) => (
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
        <code>{manifest.runtime.entry}</code>
      </dd>
    </dl>
  );
}
