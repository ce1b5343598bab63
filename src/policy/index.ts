import { errors } from '../errors.js';
import { Enforcer } from './engine.js';
import type { Authorizer, PolicyDefault } from './types.js';

export { Enforcer } from './engine.js';

/**
 * The oslo.policy enforcer for Nova's rules: each check string compiled once,
 * operator overrides (policy.yaml) replacing the defaults of the same name.
 * Unknown rule names deny.
 */
export function createPolicy(defaults: PolicyDefault[], overrides: Record<string, string> = {}): Authorizer {
  const enforcer = new Enforcer(defaults, overrides);
  const allowed = (rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean =>
    enforcer.enforce(rule, target, creds);
  return {
    allowed,
    authorize(rule, target, creds) {
      if (!allowed(rule, target, creds)) throw errors.policy(rule);
    },
  };
}
