// A model in a list: its title, owner, tags, latest version and its runs.

import type { Model } from "../api/types";
import { modelHref } from "../router";

/** The first sentence-ish of a Markdown description, without its markup. */
export function summary(markdown: string, max = 160): string {
  const text = markdown
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s*(#+|>|[-*+]\s)/gm, "")
    .replace(/[*_`~]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

export function ModelCard({ m }: { m: Model }) {
  const about = summary(m.description);
  return (
    <li class="card model-card">
      <h2 class="model-card-title">
        <a href={modelHref(m.owner, m.name)}>{m.title || m.name}</a>
      </h2>
      <p class="muted model-ref">
        {m.owner}/{m.name}
        {m.visibility === "private" && (
          <span class="badge badge--warn" title="Seen only by its owner, the users it is shared with, and admins">
            private
          </span>
        )}
      </p>
      {about && <p class="model-card-about">{about}</p>}
      <div class="model-card-foot">
        {m.tags.length > 0 && (
          <ul class="tags" aria-label="Tags">
            {m.tags.map((t) => (
              <li key={t} class="tag">
                {t}
              </li>
            ))}
          </ul>
        )}
        <span class="model-card-stats">
          {m.latest_version != null ? `v${m.latest_version}` : "no versions"}
          {` · ${m.runs} run${m.runs === 1 ? "" : "s"}`}
        </span>
      </div>
    </li>
  );
}
