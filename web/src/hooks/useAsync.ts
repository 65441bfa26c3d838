// Loads something when its inputs change, and forgets answers that arrive after the inputs
// moved on (a slow reply for the previous page must not replace the current one).

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replaces the data without loading, for answers that came from elsewhere. */
  set: (data: T) => void;
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const serial = useRef(0);
  useEffect(() => {
    const mine = ++serial.current;
    setState((s) => ({ ...s, error: undefined, loading: true }));
    load().then(
      (data) => mine === serial.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === serial.current && setState({ data: undefined, error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((data: T) => setState({ data, error: undefined, loading: false }), []);
  return { ...state, reload, set };
}
