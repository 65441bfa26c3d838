// Which version the page shows: the latest, or one chosen by number.

import type { Version } from "../api/types";
import { modelHref, navigate, type Tab } from "../router";

interface Props {
  owner: string;
  name: string;
  versions: readonly Version[];
  /** The version in the address, if any (a number or an alias). */
  current: string | undefined;
  tab: Tab;
}

export function VersionPicker({ owner, name, versions, current, tab }: Props) {
  const id = "version-picker";
  return (
    <div class="version-picker">
      <label for={id}>Version</label>
      <select
        id={id}
        value={current ?? ""}
        onChange={(e) => {
          const v = e.currentTarget.value;
          navigate(modelHref(owner, name, v || undefined, tab));
        }}
      >
        <option value="">Latest{versions[0] ? ` (${versions[0].version})` : ""}</option>
        {current !== undefined && !versions.some((v) => String(v.version) === current) && (
          <option value={current}>{current}</option>
        )}
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)}>
            {v.version} · {new Date(v.created_at).toLocaleDateString()}
          </option>
        ))}
      </select>
    </div>
  );
}
