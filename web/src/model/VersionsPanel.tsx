// A model's versions, newest first; its owner can delete a version or the whole model.

import { useState } from "preact/hooks";
import { deleteModel, listVersions } from "../api/endpoints";
import type { Version } from "../api/types";
import { useAsync } from "../hooks/useAsync";
import { ConfirmButton } from "../ui/ConfirmButton";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";
import { VersionItem } from "./VersionItem";

interface Props {
  owner: string;
  name: string;
  canDelete: boolean;
  /** Called after the model itself was deleted. */
  onModelDeleted?: () => void;
  /** The version to show opened, if any. */
  open?: number;
}

export function VersionsPanel({ owner, name, canDelete, onModelDeleted, open }: Props) {
  const versions = useAsync<Version[]>(() => listVersions(owner, name), [owner, name]);
  const [error, setError] = useState<unknown>(null);
  if (versions.error) return <ErrorBox error={versions.error} />;
  if (!versions.data) return <Busy text="Loading versions…" />;
  const list = versions.data;
  return (
    <div class="versions">
      {list.length === 0 ? (
        <p class="muted">No versions left.</p>
      ) : (
        <ul class="version-list">
          {list.map((v, i) => (
            <VersionItem
              key={v.version}
              owner={owner}
              name={name}
              v={v}
              isLatest={i === 0}
              canDelete={canDelete}
              onDeleted={versions.reload}
              open={open === v.version}
            />
          ))}
        </ul>
      )}
      {canDelete && (
        <div class="danger-zone">
          <ConfirmButton
            label={`Delete ${owner}/${name}`}
            question={`Delete ${owner}/${name} and all ${list.length} of its versions?`}
            confirmLabel="Delete the model"
            onConfirm={async () => {
              setError(null);
              try {
                await deleteModel(owner, name);
                onModelDeleted?.();
              } catch (e) {
                setError(e);
              }
            }}
          />
          {error !== null && <ErrorBox error={error} />}
        </div>
      )}
    </div>
  );
}
