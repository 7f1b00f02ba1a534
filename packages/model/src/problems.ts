/** Problems found in a factory description: all of them are collected, never only the first. */
import type { DocPath } from "./document.ts";

export type Severity = "error" | "warning";

/** One problem: what is wrong, and where (path in the document, line and column when known). */
export interface Problem {
  severity: Severity;
  message: string;
  path?: DocPath;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  col?: number;
}

/** Formats a problem as `FILE:LINE:COL: message`, the convention of compilers and editors. */
export function formatProblem(file: string, p: Problem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file;
  const at = p.path && p.path.length > 0 ? ` (at ${formatPath(p.path)})` : "";
  return `${where}: ${p.severity === "warning" ? "warning: " : ""}${p.message}${at}`;
}

/** `halls[0].rows[2].racks[1].type` */
export function formatPath(path: DocPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/** Collects problems in document order of discovery. */
export class ProblemList {
  readonly items: Problem[] = [];
  error(message: string, path?: DocPath): void {
    this.items.push({ severity: "error", message, ...(path ? { path } : {}) });
  }
  warning(message: string, path?: DocPath): void {
    this.items.push({ severity: "warning", message, ...(path ? { path } : {}) });
  }
  /**
   * Drops repeats: a pattern expanded into many halls or rows meets the same problem at the same
   * place once per name, and one report is enough.
   */
  dedupe(): void {
    const seen = new Set<string>();
    const kept = this.items.filter((p) => {
      const key = `${p.severity}\u0000${p.message}\u0000${p.path?.join("\u0001") ?? ""}\u0000${p.line ?? ""}:${p.col ?? ""}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    this.items.splice(0, this.items.length, ...kept);
  }

  get errorCount(): number {
    return this.items.filter((p) => p.severity === "error").length;
  }
}
