// A fake server for components that call the API: fetch answers from a table of routes, and
// every request is recorded so a test can check what was sent.

import { vi } from "vitest";

export interface Sent {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

export interface Reply {
  status?: number;
  body?: unknown;
}

/** Keyed by `METHOD /api/v1/path`; a function sees the request, for answers that change. */
export type Routes = Record<string, Reply | ((req: Sent) => Reply)>;

function respond({ status = 200, body }: Reply): Response {
  if (status === 204) return new Response(null, { status });
  return new Response(JSON.stringify(body ?? {}), { status, headers: { "content-type": "application/json" } });
}

export function fakeApi(routes: Routes) {
  const sent: Sent[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      const req: Sent = {
        method: init.method ?? "GET",
        path: String(input),
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
        authorization: headers.authorization,
      };
      sent.push(req);
      const route = routes[`${req.method} ${req.path}`];
      if (!route) {
        return respond({ status: 404, body: { error: { code: "not_found", message: `no ${req.method} ${req.path}` } } });
      }
      return respond(typeof route === "function" ? route(req) : route);
    }),
  );
  return {
    sent,
    /** The requests made with this method to this path. */
    to: (method: string, path: string) => sent.filter((r) => r.method === method && r.path === path),
  };
}
