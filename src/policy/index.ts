import { errors } from '../errors.js';
import type { Authorizer, PolicyDefault } from './types.js';

/** PLACEHOLDER until the oslo.policy engine lands: admin or same project. */
export function createPolicy(_defaults: PolicyDefault[], _overrides: Record<string, string> = {}): Authorizer {
  const allowed = (_rule: string, target: Record<string, unknown>, creds: Record<string, unknown>) =>
    creds.is_admin === true || target.project_id === undefined || target.project_id === creds.project_id;
  return {
    allowed,
    authorize(rule, target, creds) {
      if (!allowed(rule, target, creds)) throw errors.policy(rule);
    },
  };
}
