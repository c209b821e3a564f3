/**
 * Who is the client? The rate limiter's key. `X-Forwarded-For` is written by whoever sends the
 * request, so it is only believed as far as it was appended by proxies we trust (TRUST_PROXY),
 * named one of two ways:
 * - addresses or CIDRs: walking from the socket address leftwards, the first address that is
 *   not a trusted proxy is the client; a peer outside the list is the client itself;
 * - a hop count `N` (a whole number): exactly N proxies stand in front of the gateway and
 *   nothing else can reach it (a NetworkPolicy, an unpublished port); the N-th address from the
 *   right of X-Forwarded-For (the one the outermost proxy saw) is the client, and whatever the
 *   client wrote further left is ignored.
 * Without trusted proxies the socket address is the client, whatever the header says.
 */
import net, { BlockList } from "node:net";
import type { IncomingMessage } from "node:http";
import { ConfigError } from "../../lib/config";

/** The proxies TRUST_PROXY names: their addresses, or how many stand in front. */
export type TrustedProxies = BlockList | { hops: number };

/** Parses TRUST_PROXY (a hop count, or addresses and CIDRs); throws at start on a typo. */
export function trustedProxies(entries: string[]): TrustedProxies | null {
  if (entries.length === 0) return null;
  if (entries.length === 1 && /^\d+$/.test(entries[0])) {
    const hops = Number(entries[0]);
    if (hops < 1 || hops > 10) {
      throw new ConfigError(
        "TRUST_PROXY",
        `TRUST_PROXY=${entries[0]} is not valid: a hop count is 1 to 10`,
      );
    }
    return { hops };
  }
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : null;
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = family === "ipv4" ? 32 : 128;
    if (!family || (bits !== null && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))) {
      throw new ConfigError(
        "TRUST_PROXY",
        `TRUST_PROXY=${entries.join(",")} is not valid: "${entry}" is not a hop count, IP address or CIDR`,
      );
    }
    if (bits === null) list.addAddress(address, family);
    else list.addSubnet(address, bits, family);
  }
  return list;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client; `1.2.3.4:5678` (some proxies) too. */
export function normalizeAddress(raw: string): string {
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) address = address.split(":")[0];
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(address);
  if (mapped) address = mapped[1];
  return address.toLowerCase();
}

function isTrusted(address: string, trusted: BlockList): boolean {
  const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : null;
  // Anything that is not an address cannot be one of our proxies.
  return family !== null && trusted.check(address, family);
}

/** The client address of a request: the right-most address not written by a trusted proxy. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies | null): string {
  const socketAddress = normalizeAddress(req.socket.remoteAddress ?? "");
  if (!trusted) return socketAddress;
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map(normalizeAddress)
    .filter(Boolean);
  if (!(trusted instanceof BlockList)) {
    // The socket peer is the innermost proxy; the outermost one appended the client it saw.
    // A header shorter than the hop count was replaced, not appended to, on the way (an edge
    // proxy that writes only the address it saw): its left-most entry is a proxy's.
    if (hops.length === 0) return socketAddress;
    return hops[Math.max(0, hops.length - trusted.hops)];
  }
  if (!isTrusted(socketAddress, trusted)) return socketAddress;

  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i];
    if (!isTrusted(client, trusted)) return client;
  }
  // Every hop is a trusted proxy: the left-most one is as close to the client as we can get.
  return client;
}
