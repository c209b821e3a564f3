/** A small JSON client over fetch, shared by the tests and the bench scripts. */
export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** A raw body sent as is (for malformed-JSON tests); otherwise `json` is serialised. */
  raw?: string;
  json?: unknown;
  timeoutMs?: number;
}

/** Sees every answer before the caller does; throwing fails the request (tests check contracts). */
export type ResponseCheck = (method: string, path: string, result: HttpResult) => void;

export function client(baseUrl: string, check?: ResponseCheck) {
  async function request<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    const result = { status: res.status, body: parsed as T, headers: res.headers };
    check?.(method, path, result);
    return result;
  }
  return {
    get: <T = Record<string, unknown>>(p: string, o?: RequestOptions) => request<T>("GET", p, o),
    post: <T = Record<string, unknown>>(p: string, o?: RequestOptions) => request<T>("POST", p, o),
    patch: <T = Record<string, unknown>>(p: string, o?: RequestOptions) =>
      request<T>("PATCH", p, o),
    del: <T = Record<string, unknown>>(p: string, o?: RequestOptions) => request<T>("DELETE", p, o),
    request,
  };
}

export type Client = ReturnType<typeof client>;
