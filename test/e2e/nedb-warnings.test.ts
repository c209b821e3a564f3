/**
 * The NeDB adapter of the embedded default (dist/mixins/nedb-adapter.js, as `npm start` runs
 * it) updates documents without Node's `[DEP0174]` deprecation warning, which moleculer-db's
 * MemoryAdapter prints on every update. Run in a child process: Node writes its warnings to the
 * real process's stderr, which a test cannot watch from inside.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");

const SCRIPT = `
const { ServiceBroker } = require("moleculer");
const DbService = require("moleculer-db");
const { NeDbAdapter } = require("./dist/mixins/nedb-adapter");
const broker = new ServiceBroker({ logger: false });
const svc = broker.createService({ name: "things", mixins: [DbService], adapter: new NeDbAdapter() });
(async () => {
  await broker.start();
  const a = await svc.adapter.insert({ n: 1 });
  await svc.adapter.insert({ n: 1 });
  const many = await svc.adapter.updateMany({ n: 1 }, { $inc: { n: 1 } });
  const one = await svc.adapter.updateById(a._id, { $set: { n: 9 } });
  const left = await svc.adapter.count({ query: { n: 2 } });
  await broker.stop();
  process.stdout.write(JSON.stringify({ many, one: one.n, left }));
})();
`;

describe("the NeDB adapter", () => {
  it("updates one and many documents, and Node prints no DEP0174 warning", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["-e", SCRIPT], {
      cwd: ROOT,
    });
    expect(JSON.parse(stdout)).toEqual({ many: 2, one: 9, left: 1 });
    expect(stderr).not.toContain("DEP0174");
    expect(stderr).toBe("");
  });
});
