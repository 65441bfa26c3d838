// The one way the portal talks to the server: JSON in and out, the session's token as a Bearer
// header, and every failure turned into an ApiError with the server's code and message.

import { session } from "../session";
import type { ErrorBody, Problem } from "./types";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: NonNullable<ErrorBody["error"]["details"]> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  get problems(): Problem[] {
    return Array.isArray(this.details.problems) ? this.details.problems : [];
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const s = session();
  // An explicit header wins: signing in checks a token before it becomes the session's.
  return s ? { authorization: `Bearer ${s.token}`, ...extra } : extra;
}

async function failure(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as ErrorBody;
    if (body && typeof body.error?.message === "string") {
      const e = body.error;
      return new ApiError(res.status, e.code, e.message, e.details ?? {});
    }
  } catch {
    // Not the API's error shape: a proxy's page, for example.
  }
  return new ApiError(res.status, "http_error", `the server answered ${res.status} ${res.statusText}`.trim());
}

async function request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      ...init,
      method,
      headers: headers(init.headers as Record<string, string> | undefined),
    });
  } catch {
    throw new ApiError(0, "network", "the server could not be reached; check the connection and try again");
  }
  if (!res.ok) throw await failure(res);
  return res;
}

async function send<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await request(method, path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A file's bytes, fetched with the session's token (a private model's bundle needs it). */
export async function getBlob(path: string): Promise<Blob> {
  return (await request("GET", path)).blob();
}

/** `path` is relative to /api/v1 unless it starts with `/`. */
export function get<T>(path: string, opts: { signal?: AbortSignal; token?: string } = {}): Promise<T> {
  const init: RequestInit = {};
  if (opts.signal) init.signal = opts.signal;
  if (opts.token) init.headers = { authorization: `Bearer ${opts.token}` };
  return send<T>("GET", path, init);
}

export function post<T>(path: string, body: unknown): Promise<T> {
  return send<T>("POST", path, {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

/** For routes that answer with a body, such as revoking a token; plain deletions answer 204. */
export function del<T = void>(path: string): Promise<T> {
  return send<T>("DELETE", path);
}

/** Without a body the path says it all, as granting a model to a user does. */
export function put<T = void>(path: string, body?: unknown): Promise<T> {
  return send<T>(
    "PUT",
    path,
    body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } },
  );
}

export function patch<T>(path: string, body: unknown): Promise<T> {
  return send<T>("PATCH", path, {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

export function postForm<T>(path: string, form: FormData): Promise<T> {
  return send<T>("POST", path, { body: form });
}

/** Joins path segments, each encoded. */
export function seg(...parts: (string | number)[]): string {
  return parts.map((p) => encodeURIComponent(String(p))).join("/");
}
