/** The shell: login gate, navigation, the dead-API banner, and the view the URL names. */
import { lazy, Suspense, useCallback, useEffect, useLayoutEffect, useState } from "react";
import type { ApiFailure } from "./api.ts";
import { LiveProvider } from "./hooks.tsx";
import { Link, navigate, useLocation } from "./router.tsx";
import {
  isAdmin,
  login,
  type Principal,
  SessionProvider,
  storedPrincipal,
  storedToken,
  storeToken,
  useSession,
} from "./session.tsx";
import { applyTheme, initialTheme, type Theme, ThemeContext } from "./theme.tsx";
import { Events } from "./views/Events.tsx";
import { Floor } from "./views/Floor.tsx";
import { Login } from "./views/Login.tsx";
import { Orgs } from "./views/Orgs.tsx";
import { Overview } from "./views/Overview.tsx";
import { Power } from "./views/Power.tsx";
import { Workloads } from "./views/Workloads.tsx";

export function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  // Before any view's effects: charts read the theme's colors from the page when they draw.
  useLayoutEffect(() => applyTheme(theme), [theme]);
  const toggleTheme = useCallback(() => setTheme((t) => (t === "dark" ? "light" : "dark")), []);
  const [auth, setAuth] = useState<{ token: string; principal: Principal } | "checking" | undefined>(() => {
    const token = storedToken();
    const principal = storedPrincipal();
    return token && principal ? { token, principal } : token ? "checking" : undefined;
  });
  const [startError, setStartError] = useState<string>();

  // A token kept from earlier in this tab is checked again: it may have been revoked, or its
  // user's role changed. The views already show while it is checked.
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    const known = storedPrincipal();
    login(token)
      .then((principal) => {
        storeToken(token, principal);
        if (JSON.stringify(principal) !== JSON.stringify(known)) setAuth({ token, principal });
      })
      .catch((err: ApiFailure) => {
        // Unreachable with a known principal: the views stay, under the banner.
        if (err.unreachable && known) return;
        if (err.status === 401) storeToken(null);
        setStartError(err.unreachable ? "The API does not answer. Is the server running?" : err.message);
        setAuth(undefined);
      });
  }, []);

  const logout = useCallback((reason?: string) => {
    storeToken(null);
    setAuth(undefined);
    setStartError(reason);
    navigate("/login");
  }, []);

  if (auth === "checking") return <p className="centered">Checking the token…</p>;
  if (!auth)
    return (
      <Login
        theme={theme}
        onTheme={toggleTheme}
        {...(startError ? { initialError: startError } : {})}
        onLogin={(token, principal) => {
          storeToken(token, principal);
          setAuth({ token, principal });
          if (location.pathname === "/login" || location.pathname === "/") navigate("/overview", true);
        }}
      />
    );
  return (
    <ThemeContext.Provider value={theme}>
      <SessionProvider token={auth.token} principal={auth.principal} onLogout={logout}>
        <LiveProvider>
          <Shell theme={theme} onTheme={toggleTheme} />
        </LiveProvider>
      </SessionProvider>
    </ThemeContext.Provider>
  );
}

// The graph library is large and only the topology view needs it.
const Topology = lazy(() => import("./views/Topology.tsx").then((m) => ({ default: m.Topology })));

const NAV = [
  ["/overview", "Overview"],
  ["/floor", "Floor"],
  ["/power", "Power"],
  ["/workloads", "Workloads"],
  ["/topology", "Topology"],
  ["/orgs", "Orgs"],
  ["/events", "Events"],
] as const;

function Shell({ theme, onTheme }: { theme: Theme; onTheme: () => void }) {
  const { principal, reachable, logout } = useSession();
  const { path } = useLocation();
  const section = `/${path.split("/")[1] ?? ""}`;
  useEffect(() => {
    if (path === "/" || path === "/login") navigate("/overview", true);
  }, [path]);
  const nav = NAV.filter(([href]) => href !== "/orgs" || isAdmin(principal));
  const title = NAV.find(([href]) => href === section)?.[1];
  useEffect(() => {
    document.title = title ? `${title} · Flightdeck` : "Flightdeck";
  }, [title]);
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/overview" className="brand">
          Flightdeck
        </Link>
        <nav aria-label="Views">
          {nav.map(([href, label]) => (
            <Link key={href} href={href} aria-current={section === href ? "page" : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="who">
          <span title={principal.role}>
            {principal.name}
            {principal.org ? ` · ${principal.org}` : ""} · {principal.role}
          </span>
          <button
            type="button"
            onClick={onTheme}
            aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          >
            {theme === "dark" ? "Light" : "Dark"}
          </button>
          <button type="button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      {!reachable && (
        <div className="banner" role="alert">
          The API at {location.host} does not answer. The numbers below are the last ones received; the
          console retries on its own.
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <View section={section} path={path} />
      </main>
    </div>
  );
}

function View({ section, path }: { section: string; path: string }) {
  switch (section) {
    case "/overview":
      return <Overview />;
    case "/floor":
      return <Floor path={path} />;
    case "/power":
      return <Power path={path} />;
    case "/workloads":
      return <Workloads />;
    case "/topology":
      return (
        <Suspense fallback={<p className="muted">Loading the topology view…</p>}>
          <Topology path={path} />
        </Suspense>
      );
    case "/orgs":
      return <Orgs />;
    case "/events":
      return <Events />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{path}</code>. <Link href="/overview">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}
