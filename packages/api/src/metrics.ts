/** Prometheus metrics of the server itself, on a registry of its own (no global state). */
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { FactoryState } from "./state.ts";

export function installMetrics(app: FastifyInstance, state: FactoryState): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "flightdeck_" });
  const duration = new Histogram({
    name: "flightdeck_http_request_duration_seconds",
    help: "Time to answer HTTP requests, by route and status.",
    labelNames: ["method", "route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: "flightdeck_factory_revision",
    help: "Current factory revision (0 when none has been applied).",
    registers: [registry],
    collect() {
      this.set(state.factory?.revision ?? 0);
    },
  });
  new Gauge({
    name: "flightdeck_factory_entities",
    help: "Entities in the current factory graph, by kind.",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(state.factory?.build.summary.counts ?? {}))
        this.set({ kind }, n);
    },
  });
  app.addHook("onResponse", async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  return registry;
}
