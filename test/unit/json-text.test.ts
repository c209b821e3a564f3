/**
 * The serializer of middlewares/json-text.ts: a marked answer crosses as its JSON text, every
 * other packet exactly as moleculer's JSON serializer writes it.
 */
import { Serializers } from "moleculer";
import { JsonTextSerializer } from "../../middlewares/json-text";

const page = { rows: [{ id: "p1", name: 'Lamp "Élan" ✓', price: 1200 }], total: 1, page: 1 };

function response(overrides: Record<string, unknown> = {}) {
  return {
    ver: "5",
    sender: "products-node",
    id: "ctx-1",
    meta: { $jsonText: "ctx-1", user: { id: "u1" } },
    success: true,
    data: page,
    ...overrides,
  };
}

describe("JsonTextSerializer", () => {
  const text = new JsonTextSerializer();
  const stock = new Serializers.JSON();

  it("hands a marked answer to the caller as the JSON text of the answer, typed as JSON", () => {
    const packet = text.deserialize(text.serialize(response(), "RES"), "RES") as {
      id: string;
      success: boolean;
      data: Buffer;
      meta: Record<string, unknown>;
    };
    expect(Buffer.isBuffer(packet.data)).toBe(true);
    expect(packet.data.toString()).toBe(JSON.stringify(page));
    expect(packet.meta.$responseType).toBe("application/json; charset=utf-8");
    expect(packet.meta.user).toEqual({ id: "u1" });
    expect(packet).toMatchObject({ id: "ctx-1", success: true, sender: "products-node" });
  });

  it("writes JSON that moleculer's own serializer reads as the ordinary answer", () => {
    const read = stock.deserialize(text.serialize(response(), "RES")) as { data: unknown };
    expect(read.data).toEqual(page);
  });

  it("answers objects to a call it was not asked for: a sub-call carrying the mark, an error, no mark", () => {
    const cases = [
      response({ id: "ctx-2" }),
      response({ success: false, data: null, error: { name: "MoleculerError" } }),
      response({ meta: { user: { id: "u1" } } }),
    ];
    for (const payload of cases) {
      const bytes = text.serialize(payload, "RES");
      expect(bytes.equals(stock.serialize(payload))).toBe(true);
      expect(text.deserialize(bytes, "RES")).toEqual(JSON.parse(JSON.stringify(payload)));
    }
    const request = { ver: "5", id: "ctx-1", meta: { $jsonText: "ctx-1" }, params: { page: 1 } };
    expect(text.serialize(request, "REQ").equals(stock.serialize(request))).toBe(true);
  });

  it("serialises a cached answer once while the entry lives", () => {
    const entry = { ...page };
    const stringify = jest.spyOn(JSON, "stringify");
    try {
      for (let i = 0; i < 3; i++) text.serialize(response({ data: entry }), "RES");
      expect(stringify.mock.calls.filter(([value]) => value === entry)).toHaveLength(1);
    } finally {
      stringify.mockRestore();
    }
  });
});
