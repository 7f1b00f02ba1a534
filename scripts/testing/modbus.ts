/**
 * A real Modbus TCP server for tests: pymodbus (Debian's python3-pymodbus) serving the registers
 * given, on a free loopback port.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Debian's python3-pymodbus installs for the system interpreter; a version manager's python3 may
 * come first in PATH, so the system one is tried too. */
const PYTHONS = [process.env.FLIGHTDECK_PYTHON, "python3", "/usr/bin/python3"].filter(
  (p): p is string => !!p,
);

function findPython(): string {
  for (const python of PYTHONS) {
    const r = spawnSync(python, ["-c", "import pymodbus.server"], { stdio: "ignore" });
    if (r.status === 0) return python;
  }
  throw new Error(`pymodbus not found for ${PYTHONS.join(", ")}: apt-get install python3-pymodbus`);
}

/** Registers per unit id: `{ "1": { holding: [...], input: [...] } }`. */
export type ModbusSpec = Record<string, { holding: number[]; input: number[] }>;

/** Starts the pymodbus server and resolves with its port; `proc.kill()` stops it. */
export function startModbusServer(spec: ModbusSpec): Promise<{ proc: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL("./modbus-server.py", import.meta.url));
  const proc = spawn(findPython(), [script, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    proc.stderr!.on("data", (d) => {
      stderr += d;
    });
    proc.stdout!.once("data", (d) => resolve({ proc, port: Number(String(d).trim()) }));
    proc.once("exit", (code) => reject(new Error(`pymodbus server exited ${code}: ${stderr}`)));
  });
}
