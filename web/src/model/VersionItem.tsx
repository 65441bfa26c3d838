// One version in a list: when and by whom it was published, its environment, and on demand its
// provenance and build log. Its owner can delete it.

import { useEffect, useState } from "preact/hooks";
import { deleteVersion, getVersion } from "../api/endpoints";
import type { Environment, Version, VersionDetail } from "../api/types";
import { formatBytes } from "../catalogue/files";
import { useAsync } from "../hooks/useAsync";
import { modelHref } from "../router";
import { ConfirmButton } from "../ui/ConfirmButton";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";
import { EnvBadge, useEnvironment } from "./EnvStatus";
import { ProvenanceTable } from "./Provenance";

interface Props {
  owner: string;
  name: string;
  v: Version;
  isLatest: boolean;
  canDelete: boolean;
  onDeleted: () => void;
  /** Opens the details at once (the Versions tab of one version). */
  open?: boolean;
}

/** What stands in for a build log this person may not read, or that is not written yet. */
export function buildLogAbsent(status: Environment["status"]): string {
  return status === "pending" || status === "building"
    ? "No build output yet."
    : "The build log is shown to the model's owner and to admins.";
}

function Details({ owner, name, v }: { owner: string; name: string; v: Version }) {
  const detail = useAsync<VersionDetail>(() => getVersion(owner, name, v.version), [owner, name, v.version]);
  const env = useEnvironment(owner, name, v.version);
  if (detail.error) return <ErrorBox error={detail.error} />;
  if (!detail.data) return <Busy text="Loading…" />;
  return (
    <div class="version-details">
      <ProvenanceTable manifest={detail.data.manifest} />
      <p class="muted">
        Bundle <code title={v.digest}>{v.digest.slice(0, 19)}…</code>, {formatBytes(v.bundle_size)}, {v.bundle_files}{" "}
        {v.bundle_files === 1 ? "file" : "files"}
      </p>
      {env && (
        <details class="env-log">
          <summary>
            Environment build log <EnvBadge env={env} />
          </summary>
          {env.reason && <p class="error-message">{env.reason}</p>}
          <pre class="log" tabIndex={0}>
            {env.log ?? buildLogAbsent(env.status)}
          </pre>
        </details>
      )}
    </div>
  );
}

export function VersionItem({ owner, name, v, isLatest, canDelete, onDeleted, open = false }: Props) {
  const [expanded, setExpanded] = useState(open);
  // The version the address names is known only once it has loaded, after the list.
  useEffect(() => {
    if (open) setExpanded(true);
  }, [open]);
  const [error, setError] = useState<unknown>(null);
  const env = useEnvironment(owner, name, v.version);
  const panel = `version-${v.version}-details`;
  return (
    <li class="version-item">
      <div class="version-row">
        <a class="version-number" href={modelHref(owner, name, v.version)}>
          Version {v.version}
        </a>
        {isLatest && <span class="badge">latest</span>}
        <EnvBadge env={env} />
        <span class="muted version-meta">
          {new Date(v.created_at).toLocaleString()} by {v.published_by}
        </span>
        <span class="version-actions">
          <button
            type="button"
            class="button button--small"
            aria-expanded={expanded}
            aria-controls={panel}
            onClick={() => setExpanded(!expanded)}
          >
            {expanded ? "Hide details" : "Details"}
          </button>
          {canDelete && (
            <ConfirmButton
              label="Delete"
              question={`Delete version ${v.version} of ${owner}/${name}? Its number is never reused.`}
              confirmLabel={`Delete version ${v.version}`}
              onConfirm={async () => {
                setError(null);
                try {
                  await deleteVersion(owner, name, v.version);
                  onDeleted();
                } catch (e) {
                  setError(e);
                }
              }}
            />
          )}
        </span>
      </div>
      {error !== null && <ErrorBox error={error} />}
      <div id={panel} hidden={!expanded}>
        {expanded && <Details owner={owner} name={name} v={v} />}
      </div>
    </li>
  );
}
