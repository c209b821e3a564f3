/**
 * Who is the client? The rate limiter's key. `X-Forwarded-For` is written by whoever sends the
 * request, so it is only believed as far as it was appended by proxies we trust (TRUST_PROXY):
 * walking from the socket address leftwards, the first address that is not a trusted proxy is
 * the client. Without trusted proxies the socket address is the client, whatever the header says.
 */
import net, { BlockList } from "node:net";
import type { IncomingMessage } from "node:http";

/** Parses TRUST_PROXY entries (addresses or CIDRs); throws at start on a typo. */
export function trustedProxies(entries: string[]): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : null;
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = family === "ipv4" ? 32 : 128;
    if (!family || (bits !== null && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))) {
      throw new Error(`TRUST_PROXY: "${entry}" is not an IP address or CIDR`);
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
export function clientAddress(req: IncomingMessage, trusted: BlockList | null): string {
  const socketAddress = normalizeAddress(req.socket.remoteAddress ?? "");
  if (!trusted || !isTrusted(socketAddress, trusted)) return socketAddress;

  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map(normalizeAddress)
    .filter(Boolean);
  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i];
    if (!isTrusted(client, trusted)) return client;
  }
  // Every hop is a trusted proxy: the left-most one is as close to the client as we can get.
  return client;
}
