/**
 * Keeps the architecture honest: a package imports only the packages below it (ARCHITECTURE:
 * "dependencies point down this table, never up"), only through their public entry, and the
 * control plane and the simulator never import each other.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** What each package may import. A package missing here may import nothing of ours. */
const ALLOWED: Record<string, string[]> = {
  model: [],
  store: ["model"],
  telemetry: ["model"],
  kpi: ["telemetry", "model"],
  power: ["model", "telemetry", "store"],
  placement: ["model", "power"],
  integrations: ["model"],
  aiops: ["telemetry", "model", "integrations"],
  tenancy: ["store", "model"],
  api: ["model", "store", "telemetry", "kpi", "power", "placement", "integrations", "aiops", "tenancy"],
  console: [],
  cli: [
    "api",
    "model",
    "store",
    "telemetry",
    "kpi",
    "power",
    "placement",
    "integrations",
    "aiops",
    "tenancy",
    "sim",
  ],
  sim: ["model"],
};

const root = join(import.meta.dirname, "..");
const packagesDir = join(root, "packages");
const problems: string[] = [];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : files(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, "src");
  try {
    statSync(src);
  } catch {
    continue;
  }
  const allowed = new Set(ALLOWED[pkg] ?? []);
  for (const file of files(src)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = m[1]!;
      const line = text.slice(0, m.index).split("\n").length;
      const where = `${relative(root, file)}:${line}`;
      const ours = /^@flightdeck\/([^/]+)(\/.*)?$/.exec(spec);
      if (ours) {
        if (ours[2])
          problems.push(
            `${where}: imports "${spec}": use the package's public entry "@flightdeck/${ours[1]}"`,
          );
        if (ours[1] !== pkg && !allowed.has(ours[1]!)) {
          problems.push(
            `${where}: ${pkg} may not import @flightdeck/${ours[1]} (allowed: ${[...allowed].join(", ") || "none"})`,
          );
        }
      } else if (
        spec.startsWith(".") &&
        relative(join(packagesDir, pkg), join(file, "..", spec)).startsWith("..")
      ) {
        problems.push(`${where}: reaches into another package with "${spec}"`);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log("dependency check: ok");
