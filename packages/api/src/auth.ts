/** Bearer-token authentication: every /v1 route needs a token; the principal rides on the request. */

import type { Store } from "@flightdeck/store";
import type { Principal } from "@flightdeck/tenancy";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "./problems.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** The principal of an authenticated request; routes call this, never read the header. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, "unauthorized", "a bearer token is required");
  return request.principal;
}

export function installAuth(app: FastifyInstance, store: Store): void {
  app.decorateRequest("principal", undefined);
  app.addHook("onRequest", async (request) => {
    // Decided by the route that matched, not the raw URL, so no spelling of a path skips it.
    if (!request.routeOptions.url?.startsWith("/v1/")) return;
    const header = request.headers.authorization;
    if (!header)
      throw new ApiError(
        401,
        "unauthorized",
        "missing Authorization header: send 'Authorization: Bearer TOKEN'",
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, "unauthorized", "the Authorization header must be 'Bearer TOKEN'");
    const found = await store.authenticate(match[1]!);
    if (!found) throw new ApiError(401, "unauthorized", "the token is unknown, revoked or expired");
    request.principal = {
      userId: found.user.id,
      name: found.user.name,
      role: found.user.role,
      org: found.user.org,
      tokenId: found.token.id,
    };
  });
}
