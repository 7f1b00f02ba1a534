/** A Cytoscape graph laid out in layers (rack → nodes → NVLink domains / leaves → spines). */
import cytoscape from "cytoscape";
import { useEffect, useRef } from "react";
import { useTheme } from "../theme.tsx";

export interface GraphData {
  nodes: { id: string; label: string; kind: string }[];
  /** `label` is drawn on the edge; `detail` only in the table beside the graph. */
  edges: { source: string; target: string; label: string; detail?: string }[];
}

const COLORS: Record<string, string> = {
  rack: "#4e79a7",
  job: "#76b7b2",
  node: "#59a14f",
  domain: "#b07aa1",
  leaf: "#f28e2b",
  spine: "#e15759",
};

export function Graph({ data }: { data: GraphData }) {
  const box = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  // Drawn anew when the theme changes: label colors are read from the page's at creation.
  // biome-ignore lint/correctness/useExhaustiveDependencies: theme changes the CSS color read inside
  useEffect(() => {
    const text = getComputedStyle(box.current!).color;
    const cy = cytoscape({
      container: box.current,
      elements: [
        ...data.nodes.map((n) => ({ data: { id: n.id, label: n.label, kind: n.kind } })),
        ...data.edges.map((e, i) => ({
          data: { id: `e${i}`, source: e.source, target: e.target, label: e.label },
        })),
      ],
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            color: text,
            "font-size": 11,
            "text-valign": "bottom",
            "text-margin-y": 4,
            width: 22,
            height: 22,
            "background-color": (n: cytoscape.NodeSingular) => COLORS[n.data("kind") as string] ?? "#888",
          },
        },
        {
          selector: "edge",
          style: {
            width: 1.5,
            "line-color": "#888",
            label: "data(label)",
            "font-size": 9,
            color: text,
            "text-rotation": "autorotate",
            "curve-style": "bezier",
          },
        },
      ],
      layout: { name: "breadthfirst", directed: true, roots: [data.nodes[0]?.id ?? ""], spacingFactor: 1.1 },
      wheelSensitivity: 0.3,
    });
    return () => cy.destroy();
  }, [data, theme]);
  return (
    <div>
      <div
        className="graph"
        ref={box}
        role="img"
        aria-label={`Graph of ${data.nodes.length} elements: ${data.nodes.map((n) => n.label).join(", ")}`}
      />
      <ul className="legend" aria-label="Legend">
        {Object.entries(COLORS).map(([k, c]) => (
          <li key={k}>
            <span className="swatch" style={{ background: c }} />
            {k === "domain" ? "NVLink domain" : k}
          </li>
        ))}
      </ul>
    </div>
  );
}
