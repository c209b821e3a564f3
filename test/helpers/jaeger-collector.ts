/**
 * A local Jaeger collector endpoint for tests: accepts what jaeger-client's HTTP sender posts
 * (`POST /api/traces`, a Thrift-binary `Batch`), decodes it with the IDL jaeger-client ships,
 * and keeps the spans. It checks what leaves the processes, byte for byte as a collector would.
 */
import http from "node:http";
import path from "node:path";
import fs from "node:fs";
import type { AddressInfo } from "node:net";

// thriftrw has no typings; this is the slice of its API used here.
interface ThriftStruct {
  rw: { readFrom(buffer: Buffer, offset: number): { err: Error | null; value: unknown } };
}
interface ThriftModule {
  Thrift: new (opts: { source: string; strict: boolean; allowOptionalArguments: boolean }) => {
    Batch: ThriftStruct;
  };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Thrift } = require("thriftrw") as ThriftModule;

interface RawTag {
  key: string;
  vType: string;
  vStr?: string;
  vLong?: Buffer;
  vBool?: boolean;
}
interface RawSpan {
  traceIdLow: Buffer;
  traceIdHigh: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  operationName: string;
  tags?: RawTag[];
}
interface RawBatch {
  process: { serviceName: string };
  spans: RawSpan[];
}

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  operationName: string;
  serviceName: string;
  tags: Record<string, string | boolean>;
}

const hex = (b: Buffer) => Buffer.from(b).toString("hex");
const ZERO = "0000000000000000";

export class JaegerCollector {
  readonly spans: CollectedSpan[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private thrift = new Thrift({
    source: fs.readFileSync(
      path.join(
        path.dirname(require.resolve("jaeger-client/package.json")),
        "dist/src/jaeger-idl/thrift/jaeger.thrift",
      ),
      "ascii",
    ),
    strict: false,
    allowOptionalArguments: true,
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api/traces`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Every span of the trace that contains a span matching `predicate`. */
  traceOf(predicate: (s: CollectedSpan) => boolean): CollectedSpan[] {
    const root = this.spans.find(predicate);
    return root ? this.spans.filter((s) => s.traceId === root.traceId) : [];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const { err, value } = this.thrift.Batch.rw.readFrom(Buffer.concat(chunks), 0);
      if (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      const batch = value as RawBatch;
      for (const s of batch.spans) {
        const tags: Record<string, string | boolean> = {};
        for (const t of s.tags ?? [])
          tags[t.key] = t.vStr ?? t.vBool ?? (t.vLong ? hex(t.vLong) : "");
        const high = hex(s.traceIdHigh);
        this.spans.push({
          traceId: (high === ZERO ? "" : high) + hex(s.traceIdLow),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          operationName: s.operationName,
          serviceName: batch.process.serviceName,
          tags,
        });
      }
      res.writeHead(202).end();
    });
  }
}

export { ZERO as NO_PARENT };
