/**
 * Runs before every test file. The embedded default needs nothing; when the stack variables
 * are set (.ci/run's second pass), each test file gets its own namespace and database so files
 * never see each other's nodes or data.
 */
import { randomBytes } from "node:crypto";

const tag = randomBytes(4).toString("hex");

process.env.NODE_ENV = "test";
process.env.PORT ??= "0";
process.env.METRICS ??= "false";
// Every node the tests start gets a health port of its own (0: any free one), so parallel test
// files never contend for HEALTH_PORT 3100; tests of the port itself set it.
process.env.HEALTH_PORT ??= "0";
process.env.LOGLEVEL ??= "warn";
process.env.SEED_DEMO_DATA ??= "false";
process.env.JWT_SECRET ??= "test-secret-that-is-at-least-32-characters-long";
process.env.ADMIN_EMAIL ??= "admin@example.com";
process.env.ADMIN_PASSWORD ??= "admin-password-1";
// Every test file talks from 127.0.0.1: the real limits would throttle the suites themselves.
// Tests of the limits set their own.
process.env.RATE_LIMIT_MAX ??= "10000";
process.env.RATE_LIMIT_AUTH_MAX ??= "10000";
process.env.NAMESPACE = `t${tag}`;
if (process.env.MONGO_URI) {
  const url = new URL(process.env.MONGO_URI);
  url.pathname = `/cm_${tag}`;
  process.env.MONGO_URI = url.toString();
}
