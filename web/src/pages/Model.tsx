// A model's page: its header and version picker, then one of three tabs: the model's own UI,
// its API, and its versions.

import { getModel, getVersion, listVersions } from "../api/endpoints";
import type { Model, Version, VersionDetail } from "../api/types";
import { useAsync } from "../hooks/useAsync";
import { useTitle } from "../hooks/useTitle";
import { ApiTab } from "../model/ApiTab";
import { EnvBadge, useEnvironment } from "../model/EnvStatus";
import { UseTab } from "../model/UseTab";
import { BundleContext } from "../catalogue/bundle";
import { VersionPicker } from "../model/VersionPicker";
import { VersionsPanel } from "../model/VersionsPanel";
import { homeHref, modelHref, navigate, type Tab } from "../router";
import { useSession } from "../session";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";

interface Props {
  owner: string;
  name: string;
  version: string | undefined;
  tab: Tab;
}

const TABS: { tab: Tab; label: string }[] = [
  { tab: "use", label: "Use" },
  { tab: "api", label: "API" },
  { tab: "versions", label: "Versions" },
];

export function ModelPage({ owner, name, version, tab }: Props) {
  const session = useSession();
  const model = useAsync<Model>(() => getModel(owner, name), [owner, name]);
  const versions = useAsync<Version[]>(() => listVersions(owner, name), [owner, name]);
  const detail = useAsync<VersionDetail>(() => getVersion(owner, name, version ?? "latest"), [owner, name, version]);
  const env = useEnvironment(owner, name, version ?? "latest");
  const title = detail.data?.manifest.title ?? model.data?.title;
  useTitle(title ? `${title} (${owner}/${name})` : `${owner}/${name}`);

  if (model.error) return <ErrorBox error={model.error} />;
  const d = detail.data;
  const m = model.data;
  return (
    <div class="page model-page">
      <header class="page-header">
        <p class="crumbs">
          <a href={homeHref()}>Models</a>
          <span aria-hidden="true"> / </span>
          <span>{owner}</span>
        </p>
        <div class="title-row">
          <h1>{title ?? name}</h1>
          {d && <span class="badge">v{d.version}</span>}
          <EnvBadge env={env} />
        </div>
        <p class="muted model-ref">
          {owner}/{name}
          {m?.runs !== undefined && ` · ${m.runs} run${m.runs === 1 ? "" : "s"}`}
        </p>
        {m && m.tags.length > 0 && (
          <ul class="tags" aria-label="Tags">
            {m.tags.map((t) => (
              <li key={t} class="tag">
                {t}
              </li>
            ))}
          </ul>
        )}
        <div class="model-nav">
          <nav class="tabs" aria-label="Model">
            {TABS.map((t) => (
              <a
                key={t.tab}
                class={`tab${tab === t.tab ? " tab--on" : ""}`}
                href={modelHref(owner, name, version, t.tab)}
                aria-current={tab === t.tab ? "page" : undefined}
              >
                {t.label}
              </a>
            ))}
          </nav>
          {versions.data && (
            <VersionPicker owner={owner} name={name} versions={versions.data} current={version} tab={tab} />
          )}
        </div>
      </header>
      {tab === "versions" ? (
        <VersionsPanel
          owner={owner}
          name={name}
          canDelete={session?.user === owner}
          onModelDeleted={() => navigate(homeHref(), { replace: true })}
          {...(d && version !== undefined ? { open: d.version } : {})}
        />
      ) : detail.error ? (
        <ErrorBox error={detail.error} />
      ) : !d ? (
        <Busy text="Loading the model…" />
      ) : tab === "api" ? (
        <ApiTab detail={d} version={version} />
      ) : (
        <BundleContext.Provider value={{ owner: d.owner, name: d.name, version: d.version }}>
          <UseTab detail={d} version={version} env={env} />
        </BundleContext.Provider>
      )}
    </div>
  );
}
