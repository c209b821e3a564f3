/** Reads a console route now and every `intervalMs` while the component is shown. */
import { useCallback, useEffect, useState } from "preact/hooks";
import { problem } from "../shared/api";

export function usePolled<T>(
  read: () => Promise<{ data?: T; error?: unknown }>,
  intervalMs: number,
): { data: T | null; error: string | null; refresh: () => Promise<void> } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      const res = await read();
      if (res.data !== undefined) {
        setData(res.data);
        setError(null);
      } else setError(problem(res.error));
    } catch (err) {
      setError(problem(err));
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [refresh, intervalMs]);
  return { data, error, refresh };
}
