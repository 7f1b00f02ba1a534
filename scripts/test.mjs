#!/usr/bin/env node
// Runs every test file of the workspace with Node's test runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the files are listed here. Pass paths or package
// names to run a subset: `npm test -- packages/model`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ["packages"]).flatMap((r) =>
  statSync(r).isDirectory() ? testFiles(r) : [r],
);
files.sort();
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "test" },
});
process.exit(result.status ?? 1);
