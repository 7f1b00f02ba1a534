/** Who is asking: the user behind an API token, with a role and (for org roles) an org. */
import type { Role } from "@flightdeck/store";

export interface Principal {
  userId: number;
  name: string;
  role: Role;
  /** Null for provider admins, who see every org. */
  org: string | null;
  tokenId: number;
}

/** A request the principal may not make: `status` 403, or 404 where even existence must not leak. */
export class AccessError extends Error {
  constructor(
    readonly status: 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

export const isProviderAdmin = (p: Principal): boolean => p.role === "provider-admin";

/** True when the principal may see data of `org` (provider admins see all). */
export function canSeeOrg(p: Principal, org: string | null): boolean {
  return isProviderAdmin(p) || (org !== null && p.org === org);
}

/** True when the principal may change `org`'s users and tokens. */
export function canAdministerOrg(p: Principal, org: string | null): boolean {
  return isProviderAdmin(p) || (p.role === "org-admin" && org !== null && p.org === org);
}

/** Throws 403 unless the principal is a provider admin. */
export function requireProviderAdmin(p: Principal): void {
  if (!isProviderAdmin(p)) throw new AccessError(403, "this needs the provider-admin role");
}
