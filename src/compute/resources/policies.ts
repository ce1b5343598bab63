import type { PolicyDefault } from '../../policy/types.js';

/** Policies of flavors, keypairs, limits, quota sets and availability zones. */
export const resourcePolicies: PolicyDefault[] = [];
