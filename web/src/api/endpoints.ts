// Each API route the portal uses, typed. Paths follow crates/server/src/lib.rs.

import { API, del, get, patch, post, postForm, put, seg } from "./client";
import type {
  CreatedToken,
  Environment,
  Grant,
  Json,
  Me,
  Model,
  ModelPage,
  NewToken,
  RunView,
  StoredFile,
  TokenInfo,
  Version,
  VersionDetail,
} from "./types";

export interface Search {
  q?: string;
  owner?: string;
  tag?: string;
  page?: number;
  per_page?: number;
}

export function searchModels(s: Search, signal?: AbortSignal): Promise<ModelPage> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) {
    if (v !== undefined && v !== "") params.set(k, String(v));
  }
  const query = params.toString();
  return get<ModelPage>(`models${query ? `?${query}` : ""}`, signal ? { signal } : {});
}

export const getModel = (owner: string, name: string) => get<Model>(`models/${seg(owner, name)}`);

export const listVersions = (owner: string, name: string) =>
  get<{ versions: Version[] }>(`models/${seg(owner, name)}/versions`).then((r) => r.versions);

/** `version` is a number or an alias such as `latest`. */
export const getVersion = (owner: string, name: string, version: string | number) =>
  get<VersionDetail>(`models/${seg(owner, name, "versions", version)}`);

export const getEnvironment = (owner: string, name: string, version: string | number) =>
  get<Environment>(`models/${seg(owner, name, "versions", version, "environment")}`);

export const deleteModel = (owner: string, name: string) => del(`models/${seg(owner, name)}`);

export const deleteVersion = (owner: string, name: string, version: number) =>
  del(`models/${seg(owner, name, "versions", version)}`);

/** The model part of a run's path: `owner/name` or `owner/name@version`. */
export function modelRef(owner: string, name: string, version?: string | number): string {
  const base = seg(owner, name);
  return version === undefined || version === "" ? base : `${base}@${encodeURIComponent(String(version))}`;
}

export const startRun = (ref: string, inputs: Record<string, Json>) =>
  post<RunView>(`models/${ref}/runs`, { inputs });

export const answerRun = (id: string, inputs: Record<string, Json>) =>
  post<RunView>(`runs/${seg(id)}/steps`, { inputs });

export const getRun = (id: string) => get<RunView>(`runs/${seg(id)}`);

export function uploadFile(file: File): Promise<StoredFile> {
  const form = new FormData();
  form.append("file", file, file.name);
  return postForm<StoredFile>("files", form);
}

/** Where a stored file's bytes are served. */
export const fileUrl = (id: string) => `${API}/files/${seg(id)}`;

/** The model's own OpenAPI document. */
export const modelOpenApiUrl = (owner: string, name: string) => `${API}/models/${seg(owner, name)}/openapi.json`;

/** The platform's whole OpenAPI document. */
export const platformOpenApiUrl = "/api/openapi.json";

/**
 * Who the session's token belongs to and what it may do; a server without accounts answers 404.
 * Signing in passes the token it is checking, before it becomes the session's.
 */
export const getMe = (token?: string) => get<Me>("me", token ? { token } : {});

export const listTokens = () => get<{ tokens: TokenInfo[] }>("tokens").then((r) => r.tokens);

export const createToken = (t: NewToken) => post<CreatedToken>("tokens", t);

export const revokeToken = (id: number) => del<TokenInfo>(`tokens/${seg(id)}`);

export const setVisibility = (owner: string, name: string, visibility: "public" | "private") =>
  patch<Model>(`models/${seg(owner, name)}`, { visibility });

export const listGrants = (owner: string, name: string) =>
  get<{ grants: Grant[] }>(`models/${seg(owner, name)}/grants`).then((r) => r.grants);

export const grantModel = (owner: string, name: string, user: string) =>
  put(`models/${seg(owner, name, "grants", user)}`);

export const ungrantModel = (owner: string, name: string, user: string) =>
  del(`models/${seg(owner, name, "grants", user)}`);
