/**
 * The signed-in user: the token and the user the auth routes answered, kept in localStorage so
 * a reload or a second tab stays signed in. Components follow it with `useSession()`.
 */
import { useEffect, useState } from "preact/hooks";
import type { components } from "./schema";

type User = components["schemas"]["User"];
export interface Session {
  token: string;
  user: User;
}

const KEY = "commerce-mesh.session";
const listeners = new Set<() => void>();

function read(): Session | null {
  try {
    const text = localStorage.getItem(KEY);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}

function changed(): void {
  for (const listener of listeners) listener();
}

// Another tab signed in or out.
addEventListener("storage", (event) => {
  if (event.key === KEY) changed();
});

export const session = {
  current: read,
  token: (): string | null => read()?.token ?? null,
  signIn(value: Session): void {
    localStorage.setItem(KEY, JSON.stringify(value));
    changed();
  },
  signOut(): void {
    if (localStorage.getItem(KEY) === null) return;
    localStorage.removeItem(KEY);
    changed();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSession(): Session | null {
  const [value, setValue] = useState(read);
  useEffect(() => session.subscribe(() => setValue(read())), []);
  return value;
}
