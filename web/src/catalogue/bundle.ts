// Which model version the files on screen belong to, so that a reference to a file inside the
// version's bundle (`{"path": ...}`) can be loaded from the server.

import { createContext } from "preact";
import { useContext } from "preact/hooks";

import { API, seg } from "../api/client";

export interface BundleOf {
  owner: string;
  name: string;
  version: number;
}

export const BundleContext = createContext<BundleOf | null>(null);

export const useBundle = () => useContext(BundleContext);

/** Where a file of a version's bundle is served. */
export function bundleFileUrl(b: BundleOf, path: string): string {
  const file = path.split("/").map(encodeURIComponent).join("/");
  return `${API}/models/${seg(b.owner, b.name, "versions", String(b.version), "files")}/${file}`;
}
