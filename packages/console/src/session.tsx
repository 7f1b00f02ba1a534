/**
 * Who is logged in and how to reach the API: the token (kept in sessionStorage, so it leaves with
 * the tab), the principal behind it, and whether the API answers right now.
 */
import { createContext, type ReactNode, useContext, useMemo, useState } from "react";
import { type Api, createApi } from "./api.ts";

const TOKEN_KEY = "flightdeck.token";

export interface Principal {
  userId: number;
  name: string;
  role: "provider-admin" | "org-admin" | "org-viewer";
  org: string | null;
}

export interface Session {
  api: Api;
  principal: Principal;
  /** false while the last request could not reach the API. */
  reachable: boolean;
  logout(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The session of the logged-in user; only views under `<SessionProvider>` call this. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a session");
  return s;
}

export const isAdmin = (p: Principal) => p.role === "provider-admin";

const PRINCIPAL_KEY = "flightdeck.principal";

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);

/** Who the stored token was for at login, so that a reload shows the views before whoami answers. */
export function storedPrincipal(): Principal | undefined {
  try {
    const p = JSON.parse(sessionStorage.getItem(PRINCIPAL_KEY) ?? "null") as Principal | null;
    return p && typeof p.role === "string" ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the token (and its principal) for this tab; null forgets both. */
export function storeToken(token: string | null, principal?: Principal): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  if (token && principal) sessionStorage.setItem(PRINCIPAL_KEY, JSON.stringify(principal));
  else sessionStorage.removeItem(PRINCIPAL_KEY);
}

/** Checks a token against the API: the principal, or the reason it was refused. */
export async function login(token: string): Promise<Principal> {
  return createApi(token).get<Principal>("/v1/whoami");
}

export function SessionProvider(props: {
  token: string;
  principal: Principal;
  /** Called with the reason when the user logs out, or the API refuses the token. */
  onLogout: (reason?: string) => void;
  children: ReactNode;
}) {
  const [reachable, setReachable] = useState(true);
  const { onLogout } = props;
  const api = useMemo(
    () =>
      createApi(props.token, {
        reachability: setReachable,
        unauthorized: (detail) => onLogout(`You were logged out: ${detail}.`),
      }),
    [props.token, onLogout],
  );
  const value = useMemo<Session>(
    () => ({ api, principal: props.principal, reachable, logout: () => onLogout() }),
    [api, props.principal, reachable, onLogout],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}
