/**
 * The part of autocannon 9's API the benchmark uses (the package ships no typings and
 * @types/autocannon lags behind it). Latency figures are milliseconds.
 */
declare module "autocannon" {
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  namespace autocannon {
    interface Options {
      url: string;
      method?: "GET" | "POST" | "PATCH" | "DELETE";
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      duration?: number;
      /** Requests per second over all connections; unset: as fast as the server answers. */
      overallRate?: number;
      timeout?: number;
    }

    interface Result {
      requests: Histogram;
      latency: Histogram;
      throughput: Histogram;
      errors: number;
      timeouts: number;
      non2xx: number;
      duration: number;
      statusCodeStats: Record<string, { count: number }>;
    }
  }

  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;

  export = autocannon;
}
