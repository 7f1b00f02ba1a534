/** One headline number with its label, a sub-line and a sparkline. */
import type { ReactNode } from "react";
import { Sparkline } from "./Sparkline.tsx";

export function Stat(props: {
  label: string;
  value: string;
  sub?: ReactNode;
  times?: number[];
  values?: number[];
  tone?: "ok" | "warn" | "bad";
}) {
  return (
    <section className={`stat ${props.tone ?? ""}`} aria-label={props.label}>
      <h2>{props.label}</h2>
      <p className="value">{props.value}</p>
      {props.sub && <p className="sub">{props.sub}</p>}
      {props.times && props.values && (
        <Sparkline times={props.times} values={props.values} label={props.label} />
      )}
    </section>
  );
}
