// Who is signed in: an API token (and the user it belongs to), kept in localStorage so that a
// reload or a new tab stays signed in. The token only ever leaves as an Authorization header.

import { useEffect, useState } from "preact/hooks";

export interface Session {
  token: string;
  user: string;
}

const KEY = "feather.session";
const listeners = new Set<(s: Session | null) => void>();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.token === "string" && typeof s.user === "string"
      ? { token: s.token, user: s.user }
      : null;
  } catch {
    // Storage can be disabled (private windows, policies): then nobody is signed in.
    return null;
  }
}

let current: Session | null = read();

export function session(): Session | null {
  return current;
}

export function signIn(s: Session): void {
  current = s;
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Signed in for this page only.
  }
  listeners.forEach((l) => l(current));
}

export function signOut(): void {
  current = null;
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing was stored.
  }
  listeners.forEach((l) => l(current));
}

/** The session, re-rendering on sign-in and sign-out (in this tab and in others). */
export function useSession(): Session | null {
  const [s, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    const onStorage = (e: StorageEvent) => {
      if (e.key === KEY) {
        current = read();
        listeners.forEach((l) => l(current));
      }
    };
    window.addEventListener("storage", onStorage);
    return () => {
      listeners.delete(set);
      window.removeEventListener("storage", onStorage);
    };
  }, []);
  return s;
}
