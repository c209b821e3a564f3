import type { IncomingMessage } from "node:http";
import { clientAddress, normalizeAddress, trustedProxies } from "../../services/api/client-ip";

function request(socket: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: socket },
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
  } as unknown as IncomingMessage;
}

describe("client address for rate limiting", () => {
  it("is the socket address when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress(request("203.0.113.7", "1.2.3.4"), null)).toBe("203.0.113.7");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    const trusted = trustedProxies(["10.0.0.0/8"]);
    expect(clientAddress(request("203.0.113.7", "1.2.3.4"), trusted)).toBe("203.0.113.7");
  });

  it("takes the right-most untrusted X-Forwarded-For entry behind trusted proxies", () => {
    const trusted = trustedProxies(["10.0.0.0/8", "192.168.1.1"]);
    // The client forged "1.2.3.4"; the outer proxy appended the real address, the inner one its own.
    const req = request("10.0.0.2", "1.2.3.4, 198.51.100.9, 192.168.1.1");
    expect(clientAddress(req, trusted)).toBe("198.51.100.9");
  });

  it("falls back to the left-most hop when every hop is a trusted proxy", () => {
    const trusted = trustedProxies(["10.0.0.0/8"]);
    expect(clientAddress(request("10.0.0.2", "10.0.0.9, 10.0.0.3"), trusted)).toBe("10.0.0.9");
    expect(clientAddress(request("10.0.0.2"), trusted)).toBe("10.0.0.2");
  });

  it("treats IPv4-mapped IPv6 and ported forms as the same client", () => {
    expect(normalizeAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalizeAddress(" 198.51.100.9:5411 ")).toBe("198.51.100.9");
    expect(normalizeAddress("[2001:DB8::1]:443")).toBe("2001:db8::1");
    const trusted = trustedProxies(["127.0.0.1"]);
    expect(clientAddress(request("::ffff:127.0.0.1", "2001:db8::1"), trusted)).toBe("2001:db8::1");
  });

  it("with a hop count, takes the address the outermost proxy saw, whatever the client prepended", () => {
    const oneHop = trustedProxies(["1"]);
    // The client forged "1.2.3.4" and "5.6.7.8"; the only proxy appended the address it saw.
    expect(clientAddress(request("10.0.0.2", "1.2.3.4, 5.6.7.8, 198.51.100.9"), oneHop)).toBe(
      "198.51.100.9",
    );
    // Node addresses (10.x after SNAT) are no trusted range here: they cannot extend the walk.
    expect(clientAddress(request("10.0.0.2", "1.2.3.4, 10.1.2.3"), oneHop)).toBe("10.1.2.3");
    const twoHops = trustedProxies(["2"]);
    const chain = "1.2.3.4, 198.51.100.9, 10.0.0.7";
    expect(clientAddress(request("10.0.0.2", chain), twoHops)).toBe("198.51.100.9");
    // No header: the peer is as close to the client as we know.
    expect(clientAddress(request("10.0.0.2"), oneHop)).toBe("10.0.0.2");
  });

  it("refuses a TRUST_PROXY hop count of 0 or more than 10", () => {
    expect(() => trustedProxies(["0"])).toThrow(/TRUST_PROXY=0 is not valid: a hop count/);
    expect(() => trustedProxies(["11"])).toThrow(/TRUST_PROXY/);
    expect(trustedProxies(["3"])).toEqual({ hops: 3 });
  });

  it("refuses a TRUST_PROXY entry that is not an address or CIDR at start", () => {
    expect(() => trustedProxies(["proxy.internal"])).toThrow(/TRUST_PROXY/);
    expect(() => trustedProxies(["10.0.0.0/33"])).toThrow(/TRUST_PROXY/);
    expect(trustedProxies([])).toBeNull();
  });
});
