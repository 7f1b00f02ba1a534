/**
 * A small history router: the path is the state, so every view has a URL that can be pasted
 * (`/floor/rack/rack:r01`). Links are real anchors, so middle-click and keyboard work as usual.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from "react";

const listeners = new Set<() => void>();

/** Goes to `path` without a reload. */
export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const l of listeners) l();
}

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((n) => n + 1);
    listeners.add(changed);
    addEventListener("popstate", changed);
    return () => {
      listeners.delete(changed);
      removeEventListener("popstate", changed);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** An anchor that navigates in place on a plain click. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}

/** Path segments after `prefix`, decoded: `/floor/rack/rack%3Ar01` with `/floor` → `["rack", "rack:r01"]`. */
export function segments(path: string, prefix: string): string[] {
  return path
    .slice(prefix.length)
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
}
