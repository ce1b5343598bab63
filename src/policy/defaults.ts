import { basePolicies } from './base.js';
import { resourcePolicies } from '../compute/resources/policies.js';
import { serverPolicies } from '../compute/servers/policies.js';
import { actionPolicies } from '../compute/actions/index.js';
import { instanceActionsPolicies } from '../compute/instance-actions/policies.js';
import { faultInjectionPolicies } from '../compute/fault-injection/routes.js';
import { servicesPolicies } from '../compute/os-services/policies.js';
import { hypervisorPolicies } from '../compute/hypervisors/policies.js';
import { serverGroupPolicies } from '../compute/server-groups/policies.js';
import { migrationsPolicies } from '../compute/migrations/routes.js';
import { aggregatePolicies } from '../compute/aggregates/policies.js';
import type { PolicyDefault } from './types.js';

/** Every rule declared in code, base rules first. */
export const allPolicyDefaults: PolicyDefault[] = [...basePolicies, ...resourcePolicies, ...serverPolicies, ...actionPolicies, ...instanceActionsPolicies, ...faultInjectionPolicies, ...servicesPolicies, ...hypervisorPolicies, ...serverGroupPolicies, ...migrationsPolicies, ...aggregatePolicies];
