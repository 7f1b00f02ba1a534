/** Wires the HTTP API: one Fastify instance with auth, problem errors, metrics, OpenAPI and routes. */

import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Store } from "@flightdeck/store";
import { Ajv } from "ajv";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { Type } from "typebox";
import { installAuth } from "./auth.ts";
import { registerConsole } from "./console.ts";
import { installMetrics } from "./metrics.ts";
import type { PowerService } from "./power.ts";
import { handleError, sendProblem } from "./problems.ts";
import { factoryRoutes } from "./routes/factory.ts";
import { powerRoutes } from "./routes/power.ts";
import { telemetryRoutes } from "./routes/telemetry.ts";
import { tenancyRoutes } from "./routes/tenancy.ts";
import { topologyRoutes } from "./routes/topology.ts";
import { EntitySchema, ProblemSchema } from "./schemas.ts";
import type { FactoryState } from "./state.ts";
import type { Telemetry } from "./telemetry.ts";

export interface ServerOptions {
  store: Store;
  state: FactoryState;
  /** Largest accepted request body; larger ones get 413. */
  bodyLimitBytes?: number;
  logger?: FastifyServerOptions["logger"];
  version?: string;
  /** The telemetry runtime; without it the telemetry routes answer 503. */
  telemetry?: Telemetry;
  /** The power service; without it the power routes answer 503. */
  power?: PowerService;
}

/** 16 MiB: a factory description written out without repetition can run to megabytes. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Unknown fields are errors, never silently dropped. Query strings and path parameters arrive as
  // text and are coerced to their types; a JSON body must already have the right types.
  const validators = {
    body: new Ajv({
      removeAdditional: false,
      coerceTypes: false,
      useDefaults: true,
      allErrors: true,
      strict: false,
    }),
    text: new Ajv({
      removeAdditional: false,
      coerceTypes: "array",
      useDefaults: true,
      allErrors: true,
      strict: false,
    }),
  };
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? validators.body : validators.text).compile(schema as object),
  );

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Flightdeck API",
        version: options.version ?? "0.1.0",
        description: "The control plane of an AI factory: its model, power, telemetry and tenants.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(ProblemSchema);
  app.addSchema(EntitySchema);

  // A YAML body is taken as the description's source text.
  app.addContentTypeParser(
    ["application/yaml", "text/yaml", "application/x-yaml"],
    { parseAs: "string" },
    (_req, body, done) => done(null, { source: body as string }),
  );

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, 404, "not-found", `no route ${request.method} ${request.url.split("?")[0]}`),
  );
  installAuth(app, options.store);
  const registry = installMetrics(app, options.state);

  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness",
        security: [],
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: the store answers and a factory is loaded",
        security: [],
        response: {
          200: Type.Object({ status: Type.String(), revision: Type.Integer() }),
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request, reply) => {
      try {
        await options.store.latestRevision();
      } catch (err) {
        return sendProblem(
          reply,
          request,
          503,
          "not-ready",
          `the store does not answer: ${(err as Error).message}`,
        );
      }
      const revision = options.state.factory?.revision;
      if (revision === undefined)
        return sendProblem(reply, request, 503, "not-ready", "no factory has been applied yet");
      return { status: "ready", revision };
    },
  );
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  factoryRoutes(app, options.state, options.store);
  topologyRoutes(app, options.state);
  tenancyRoutes(app, options.store);
  telemetryRoutes(app, options.state, options.telemetry, options.store);
  powerRoutes(app, options.state, options.power);
  await registerConsole(app);
  await app.ready();
  return app;
}
