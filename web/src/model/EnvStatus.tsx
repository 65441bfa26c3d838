// A version's Python environment: ready, or being built (watched until it is), or failed.

import { useEffect, useState } from "preact/hooks";
import { getEnvironment } from "../api/endpoints";
import type { Environment } from "../api/types";

const WORDS: Record<Environment["status"], string> = {
  pending: "Environment queued",
  building: "Environment building",
  ready: "Ready",
  failed: "Environment failed",
};

/** The environment, polled every few seconds while it is pending or building. */
export function useEnvironment(owner: string, name: string, version: string | number): Environment | null {
  const [env, setEnv] = useState<Environment | null>(null);
  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const e = await getEnvironment(owner, name, version);
        if (stop) return;
        setEnv(e);
        if (e.status === "pending" || e.status === "building") timer = window.setTimeout(poll, 2000);
      } catch {
        // The status is a hint; the run itself reports a version that cannot run.
      }
    };
    setEnv(null);
    void poll();
    return () => {
      stop = true;
      window.clearTimeout(timer);
    };
  }, [owner, name, version]);
  return env;
}

export function EnvBadge({ env }: { env: Environment | null }) {
  if (!env) return null;
  return (
    <span class={`badge badge--env-${env.status}`} title={env.reason}>
      {WORDS[env.status]}
    </span>
  );
}
