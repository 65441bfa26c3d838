// Label: class probabilities as bars, likeliest first, the predicted class marked.

import type { Label } from "../../api/types";

export interface Bar {
  name: string;
  p: number;
}

/** The classes to show, likeliest first, at most `num_top_classes`. */
export function bars(c: Label): Bar[] {
  const all = Object.entries(c.confidences).map(([name, p]) => ({ name, p }));
  all.sort((a, b) => b.p - a.p || a.name.localeCompare(b.name));
  return c.num_top_classes ? all.slice(0, c.num_top_classes) : all;
}

function percent(p: number): string {
  if (p > 0 && p < 0.001) return "<0.1%";
  return `${(p * 100).toFixed(p >= 0.995 || p === 0 ? 0 : 1)}%`;
}

export function LabelOut({ c }: { c: Label }) {
  const list = bars(c);
  const predicted = c.label ?? list[0]?.name;
  return (
    <div class="label-view">
      {predicted !== undefined && (
        <p class="label-predicted">
          <span class="label-predicted-name">{predicted}</span>
          {c.confidences[predicted] !== undefined && (
            <span class="label-predicted-p">{percent(c.confidences[predicted]!)}</span>
          )}
        </p>
      )}
      <ol class="bars">
        {list.map((b) => (
          <li key={b.name} class={`bar-row${b.name === predicted ? " bar-row--top" : ""}`}>
            <span class="bar-name">{b.name}</span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar-fill" style={{ width: `${Math.max(0, Math.min(1, b.p)) * 100}%` }} />
            </span>
            <span class="bar-value">{percent(b.p)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
