// The run a page just received, handed to the run page it navigates to, so the outputs show
// at once instead of after a second request.

import type { RunView } from "../api/types";

const runs = new Map<string, RunView>();

export function remember(run: RunView): void {
  runs.set(run.id, run);
}

export function recall(id: string): RunView | undefined {
  const run = runs.get(id);
  runs.delete(id);
  return run;
}
