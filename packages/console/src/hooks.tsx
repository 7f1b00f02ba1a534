/** Data hooks: a polled request, and the KPI stream shared by the views that show live numbers. */
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from "react";
import { ApiFailure } from "./api.ts";
import { type KpiFrame, type TotalsPoint, totalsOf } from "./model/kpi.ts";
import { useSession } from "./session.tsx";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  /** Re-fetch now. */
  reload: () => void;
}

/**
 * GETs `path` now and every `everyMs` (0: once), keeping the last good answer while a later one
 * fails. A null path fetches nothing.
 */
export function usePoll<T>(path: string | null, everyMs = 0): Loaded<T> {
  const { api } = useSession();
  const [state, setState] = useState<{ path: string | null; data?: T; error?: ApiFailure }>({ path });
  const [tick, setTick] = useState(0);
  // `tick` is a dependency on purpose: `reload` bumps it to fetch again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-runs the fetch
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      api
        .get<T>(path, abort.signal)
        .then((data) => setState({ path, data }))
        .catch((err: Error) => {
          if (abort.signal.aborted) return;
          const error = err instanceof ApiFailure ? err : new ApiFailure(0, err.message);
          setState((s) => ({
            path,
            ...(s.path === path && s.data !== undefined ? { data: s.data } : {}),
            error,
          }));
        })
        .finally(() => {
          if (everyMs > 0 && !abort.signal.aborted) timer = setTimeout(load, everyMs);
        });
    };
    load();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [api, path, everyMs, tick]);
  const same = state.path === path;
  return {
    data: same ? state.data : undefined,
    error: same ? state.error : undefined,
    reload: () => setTick((n) => n + 1),
  };
}

/** The largest page the topology routes give. */
const PAGE = 10_000;

/**
 * Every item of a paged topology list (`{total, items}`), however many pages it takes: the first
 * page, then the rest at once. Fetched once.
 */
export function useList<T>(path: string | null): Loaded<{ total: number; items: T[] }> {
  const { api } = useSession();
  const [state, setState] = useState<{
    path: string | null;
    data?: { total: number; items: T[] };
    error?: ApiFailure;
  }>({ path });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-runs the fetch
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    const page = (offset: number) =>
      api.get<{ total: number; items: T[] }>(
        `${path}${path.includes("?") ? "&" : "?"}offset=${offset}&limit=${PAGE}`,
        abort.signal,
      );
    (async () => {
      const first = await page(0);
      const offsets: number[] = [];
      for (let o = PAGE; o < first.total; o += PAGE) offsets.push(o);
      const rest = await Promise.all(offsets.map(page));
      setState({
        path,
        data: { total: first.total, items: [first.items, ...rest.map((r) => r.items)].flat() },
      });
    })().catch((err: Error) => {
      if (abort.signal.aborted) return;
      setState({ path, error: err instanceof ApiFailure ? err : new ApiFailure(0, err.message) });
    });
    return () => abort.abort();
  }, [api, path, tick]);
  const same = state.path === path;
  return {
    data: same ? state.data : undefined,
    error: same ? state.error : undefined,
    reload: () => setTick((n) => n + 1),
  };
}

/** The live KPI frame by rack, over the last minute, every two seconds. */
export interface Live {
  racks: KpiFrame | undefined;
  /** Recent totals, oldest first, for sparklines. */
  history: TotalsPoint[];
}

const LiveContext = createContext<Live>({ racks: undefined, history: [] });
const HISTORY_POINTS = 300;

/**
 * Streams the KPIs by rack (`/v1/kpi/stream`) for everything under it, keeping the totals' recent
 * history: one stream per tab, however many views read it. (A browser opens six connections to
 * one origin; every stream held open is one fewer for the views' requests.)
 */
export function LiveProvider({
  children,
  intervalSeconds = 2,
}: {
  children: ReactNode;
  intervalSeconds?: number;
}) {
  const { api } = useSession();
  const [live, setLive] = useState<Live>({ racks: undefined, history: [] });
  const history = useRef<TotalsPoint[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    api
      .stream(
        `/v1/kpi/stream?by=rack&windowSeconds=60&intervalSeconds=${intervalSeconds}`,
        (event, data) => {
          if (event !== "kpi") return;
          const frame = data as KpiFrame;
          history.current = [...history.current.slice(-(HISTORY_POINTS - 1)), totalsOf(frame)];
          setLive({ racks: frame, history: history.current });
        },
        abort.signal,
      )
      .catch(() => {
        // Refused for good (telemetry off, token revoked): the views show what polling finds.
      });
    return () => abort.abort();
  }, [api, intervalSeconds]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export const useLive = (): Live => useContext(LiveContext);

/** The KPIs by `by`, streamed while the calling view is mounted. */
export function useKpiStream(by: string, intervalSeconds = 2): KpiFrame | undefined {
  const { api } = useSession();
  const [frame, setFrame] = useState<KpiFrame>();
  useEffect(() => {
    const abort = new AbortController();
    api
      .stream(
        `/v1/kpi/stream?by=${encodeURIComponent(by)}&windowSeconds=60&intervalSeconds=${intervalSeconds}`,
        (event, data) => {
          if (event === "kpi") setFrame(data as KpiFrame);
        },
        abort.signal,
      )
      .catch(() => {
        // As above.
      });
    return () => abort.abort();
  }, [api, by, intervalSeconds]);
  return frame;
}
