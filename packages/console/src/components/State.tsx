/** What a view shows while it waits, when it failed, and when there is nothing to show. */
import type { ReactNode } from "react";
import type { ApiFailure } from "../api.ts";

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Failed({ error, what }: { error: ApiFailure; what: string }) {
  const reason =
    error.status === 503
      ? `${error.message} (the service behind it is not running)`
      : error.status === 403
        ? `${error.message} (your role may not see this)`
        : error.message;
  return (
    <p className="error" role="alert">
      Could not load {what}: {reason}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Shows `children(data)` once `data` is there; otherwise loading or the error. */
export function Async<T>(props: {
  data: T | undefined;
  error: ApiFailure | undefined;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (props.data !== undefined)
    return (
      <>
        {props.error && !props.error.unreachable && <Failed error={props.error} what={props.what} />}
        {props.children(props.data)}
      </>
    );
  if (props.error) return <Failed error={props.error} what={props.what} />;
  return <Loading what={props.what} />;
}
