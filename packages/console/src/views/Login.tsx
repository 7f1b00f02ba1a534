/** Token login: paste a token; it is checked against the API and kept for this tab only. */
import { type FormEvent, useState } from "react";
import type { ApiFailure } from "../api.ts";
import { login, type Principal } from "../session.tsx";
import type { Theme } from "../theme.ts";

export function Login(props: {
  onLogin: (token: string, principal: Principal) => void;
  initialError?: string;
  theme: Theme;
  onTheme: () => void;
}) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(props.initialError);
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError("Paste a token first.");
    setBusy(true);
    login(t)
      .then((principal) => props.onLogin(t, principal))
      .catch((err: ApiFailure) => {
        setError(
          err.unreachable
            ? "The API does not answer. Is the server running?"
            : err.status === 401
              ? `The token was refused: ${err.message}.`
              : err.message,
        );
        setBusy(false);
      });
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Flightdeck</h1>
        <p className="muted">The control plane of your AI factory.</p>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="fd_…"
        />
        <p className="hint">
          <code>npm start</code> prints the admin token and writes it to <code>data/admin-token</code>;{" "}
          <code>flightdeck user-create ORG NAME</code> makes one for an org's user. It is kept in this tab
          only.
        </p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Checking…" : "Log in"}
          </button>
          <button type="button" onClick={props.onTheme}>
            {props.theme === "dark" ? "Light theme" : "Dark theme"}
          </button>
        </div>
      </form>
    </main>
  );
}
