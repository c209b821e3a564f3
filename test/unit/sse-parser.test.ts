/**
 * The storefront reads `GET /api/orders/stream` with fetch, so it parses Server-Sent Events
 * itself (web/src/shared/sse-parser.ts): the text arrives in chunks cut anywhere.
 */
import { SseParser } from "../../web/src/shared/sse-parser";

const STREAM =
  "event: ready\ndata: {}\n\n" +
  ": keep-alive\n\n" +
  'event: order\ndata: {"id":"o1","status":"pending"}\n\n' +
  'event: order\r\ndata: {"id":"o1",\r\ndata: "status":"confirmed"}\r\n\r\n' +
  "data: plain\n\n";

const EXPECTED = [
  { event: "ready", data: "{}" },
  { event: "order", data: '{"id":"o1","status":"pending"}' },
  { event: "order", data: '{"id":"o1",\n"status":"confirmed"}' },
  { event: "message", data: "plain" },
];

describe("SseParser", () => {
  it("gives each event once its blank line arrives, skipping comments", () => {
    expect(new SseParser().push(STREAM)).toEqual(EXPECTED);
  });

  it("gives the same events whatever the chunks are, even a CR and its LF apart", () => {
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < STREAM.length; i += size)
        events.push(...parser.push(STREAM.slice(i, i + size)));
      expect(events).toEqual(EXPECTED);
    }
  });

  it("holds an event back until its end", () => {
    const parser = new SseParser();
    expect(parser.push('event: order\ndata: {"id":"o2"}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "order", data: '{"id":"o2"}' }]);
  });
});
