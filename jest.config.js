// The embedded default runs unit, integration and e2e suites. The stack suites need real
// servers (NATS, Redis, a Mongo-wire database) and run when TRANSPORTER names one: .ci/run's
// second pass sets it. They are selected, not skipped: a stack run without them fails loudly.
const stack = Boolean(process.env.TRANSPORTER);
// test/deploy runs the real manifest validators that tools/validate-deploy.sh builds; that
// script (npm run validate:deploy, and CI) runs it with DEPLOY_VALIDATORS=1.
const deploy = process.env.DEPLOY_VALIDATORS === "1";
// test/browser drives headless Chromium (test/helpers/browser.ts); .ci/run's browser step
// installs it and runs them with BROWSER_TESTS=1, so `npm test` needs no browser.
const browser = process.env.BROWSER_TESTS === "1";

/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: [
    ...(stack ? [] : ["/test/stack/"]),
    ...(deploy ? [] : ["/test/deploy/"]),
    ...(browser ? [] : ["/test/browser/"]),
  ],
  setupFiles: ["<rootDir>/test/setup-env.ts"],
  testTimeout: stack ? 120000 : 30000,
  maxWorkers: stack ? 1 : "50%",
  // The stack run (one worker, in band) can end with a handle some client library keeps open
  // after its test stopped its servers (seen after the whole run had passed: jest then waits
  // forever). The results are final when the last test ends; exit then.
  forceExit: stack,
};
