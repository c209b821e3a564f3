/**
 * URLs with credentials (TRANSPORTER `nats://user:password@host`, CACHER `redis://:password@…`)
 * as they may appear in a log line or an error: the password replaced by `***`. Whoever reads
 * the logs must not get the mesh's login with them.
 */
export function redactUrl(url: string): string {
  if (url.includes("://")) {
    try {
      const u = new URL(url);
      if (!u.password) return url;
      u.password = "***";
      return u.toString();
    } catch {
      // Not a URL after all: treated as text below.
    }
  }
  // The text may still hold `user:password@host`: keep only what follows the last `@`.
  const at = url.lastIndexOf("@");
  return at < 0 ? url : `***@${url.slice(at + 1)}`;
}
