// Writes the test bench's Prometheus configuration (tools/test-bench.sh) from the shipped one,
// so the two cannot drift: deploy/prometheus/prometheus.yml with only these changes
//   - each job's DNS discovery becomes file discovery: a stack test writes a JSON file of its
//     processes (with the `__meta_dns_name` DNS would give, so the relabelling is unchanged)
//     into <out>/targets/<job name>/ (one folder per job: a process is scraped by its own job
//     only, never counted twice);
//   - scrape and evaluation every second;
//   - deploy/prometheus/alerts.yml with time compressed 30×: a `[5m]` window becomes `[10s]`,
//     a `for: 10m` becomes `for: 20s`. The expressions, thresholds and labels are the shipped ones.
// Usage: node tools/prometheus-bench.mjs <out dir>
import fs from "node:fs";
import process from "node:process";
import path from "node:path";
import YAML from "yaml";

const out = process.argv[2];
if (!out) throw new Error("usage: node tools/prometheus-bench.mjs <out dir>");
const root = path.join(import.meta.dirname, "..");
const read = (file) =>
  YAML.parse(fs.readFileSync(path.join(root, "deploy/prometheus", file), "utf8"));

const SCALE = 30;
const seconds = { s: 1, m: 60, h: 3600 };
const compress = (text) =>
  text.replace(
    /\b(\d+)([smh])\b/g,
    (_, n, unit) => `${Math.max(1, Math.round((n * seconds[unit]) / SCALE))}s`,
  );

const config = read("prometheus.yml");
config.global = { ...config.global, scrape_interval: "1s", evaluation_interval: "1s" };
for (const job of config.scrape_configs) {
  if (!job.dns_sd_configs) continue;
  delete job.dns_sd_configs;
  // The folder exists before Prometheus starts, so its file watch is on from the first second.
  fs.mkdirSync(path.join(out, "targets", job.job_name), { recursive: true });
  job.file_sd_configs = [
    { files: [path.join(out, "targets", job.job_name, "*.json")], refresh_interval: "1s" },
  ];
}

const rules = read(config.rule_files[0]);
for (const group of rules.groups) {
  for (const rule of group.rules) {
    rule.expr = rule.expr.replace(/\[([^\]]+)\]/g, (_, range) => `[${compress(range)}]`);
    if (rule.for) rule.for = compress(rule.for);
  }
}
config.rule_files = [path.join(out, "alerts.yml")];

fs.mkdirSync(path.join(out, "targets"), { recursive: true });
fs.writeFileSync(path.join(out, "alerts.yml"), YAML.stringify(rules));
fs.writeFileSync(path.join(out, "prometheus.yml"), YAML.stringify(config));
