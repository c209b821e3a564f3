/**
 * The end of .ci/run: one table of what every step checked, and the final "N passed, M failed".
 *
 *   node .ci/summary.mjs <rows.tsv>
 *
 * Each line of rows.tsv is `<name>\t<kind>\t<value>`:
 *   jest    value is `<file> <exit status>`: the --json output file of a jest run (or of a
 *           step that ends with one) and how the step exited. Its row shows the run's own counts;
 *           the total counts each distinct test (file + full name) once over every jest run,
 *           failed when it failed in any of them: run 2 repeats the plain tests of run 1 and
 *           the deploy step repeats a unit file, and a test run twice is still one test.
 *           A file that failed to run counts as one failing test; a step that failed with no
 *           failing test (it crashed, or failed before its tests) as one failure.
 *   count   value is `<passed> <failed>`: checks that are not jest tests (bench, chaos
 *           invariants, and whatever a later step adds with .ci/run's `record`).
 * Prints the table, then the totals alone on the last line; exits 1 when anything failed.
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";

const print = (line) => process.stdout.write(`${line}\n`);

const rows = fs
  .readFileSync(process.argv[2], "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => line.split("\t"));

/** test id → "passed" | "failed", over every jest run. */
const distinct = new Map();
/** Failed steps with no failing test to name. */
let unnamedFailures = 0;
const table = [];

function jestRun(name, file, status) {
  if (!fs.existsSync(file)) {
    unnamedFailures++;
    table.push([name, "0", "1", `no results (exit status ${status})`]);
    return;
  }
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const suite of report.testResults) {
    const where = path.relative(process.cwd(), suite.name);
    if (suite.status === "failed" && suite.assertionResults.length === 0) {
      failed++;
      distinct.set(`${where} › (the file failed to run)`, "failed");
      continue;
    }
    for (const test of suite.assertionResults) {
      const id = `${where} › ${test.fullName}`;
      if (test.status === "passed") {
        passed++;
        if (!distinct.has(id)) distinct.set(id, "passed");
      } else if (test.status === "failed") {
        failed++;
        distinct.set(id, "failed");
      } else skipped++;
    }
  }
  const notes = skipped ? [`${skipped} skipped`] : [];
  if (status !== "0" && failed === 0) {
    // Every test passed, yet the step failed (a validator, an open handle, a crash).
    failed++;
    unnamedFailures++;
    notes.push(`exit status ${status} with no failing test`);
  }
  table.push([name, String(passed), String(failed), notes.join("; ")]);
}

let otherPassed = 0;
let otherFailed = 0;
for (const [name, kind, value] of rows) {
  if (kind === "jest") jestRun(name, ...value.split(" "));
  else {
    const [passed, failed] = value.split(" ").map(Number);
    otherPassed += passed;
    otherFailed += failed;
    table.push([name, String(passed), String(failed), ""]);
  }
}

const distinctValues = [...distinct.values()];
const testsPassed = distinctValues.filter((v) => v === "passed").length;
const testsFailed = distinctValues.length - testsPassed + unnamedFailures;
const totals = [
  ["jest tests, each counted once", String(testsPassed), String(testsFailed), ""],
  ["other checks", String(otherPassed), String(otherFailed), ""],
];

const width = Math.max(...[...table, ...totals].map((r) => r[0].length));
const line = ([name, passed, failed, note]) =>
  print(`${name.padEnd(width)}  ${passed.padStart(6)}  ${failed.padStart(6)}  ${note}`.trimEnd());
line(["step", "passed", "failed", ""]);
table.forEach(line);
print("-".repeat(width + 16));
totals.forEach(line);
const passed = testsPassed + otherPassed;
const failed = testsFailed + otherFailed;
print(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
