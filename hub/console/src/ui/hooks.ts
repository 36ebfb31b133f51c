import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type LiveEvent, subscribeLive } from '../api/live';
import { type Session, session } from '../api/session';

export interface Query<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; the last answer wins. */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): Query<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (err: Error) => mine === seq.current && setState((s) => ({ ...s, error: err.message, loading: false })),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** The current hash route, e.g. `#/machines/m-1?q=x` → path `/machines/m-1`, params `q=x`. */
export function useRoute(): { path: string; params: URLSearchParams } {
  const read = () => {
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path = '/', query = ''] = raw.split('?');
    return { path, params: new URLSearchParams(query) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function navigate(path: string, params?: Record<string, string | number | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  location.hash = s ? `${path}?${s}` : path;
}

/** Re-renders when the session changes (login, logout, refresh). */
export function useSession(): Session {
  const [, bump] = useState(0);
  useEffect(() => session.subscribe(() => bump((n) => n + 1)), []);
  return session;
}

/**
 * Calls `onChange` (at most every `minMs`) when a live event matching `match` arrives, and on every
 * (re)connection of the stream.
 */
export function useLive(match: (e: LiveEvent) => boolean, onChange: () => void, minMs = 500): void {
  const latest = useRef({ match, onChange });
  latest.current = { match, onChange };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const fire = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        latest.current.onChange();
      }, minMs);
    };
    const stop = subscribeLive((e) => latest.current.match(e) && fire(), fire);
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [minMs]);
}
