/** Orgs, roles and what each principal may see: the org-scoped accessors the API goes through. */
export {
  AccessError,
  canAdministerOrg,
  canSeeOrg,
  isProviderAdmin,
  type Principal,
  requireProviderAdmin,
} from "./principal.ts";
export { type ListFilter, type Page, type ScopedTopology, scopeTopology } from "./topology.ts";
