import type { PolicyDefault } from '../../policy/types.js';

export const serverPolicies: PolicyDefault[] = [];
