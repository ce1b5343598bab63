import type { ComputeRequest, Reply } from '../../api/route.js';
import { badRequest, errors, notFound } from '../../errors.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { loadServer } from '../servers/common.js';
import { pauseActions, pausePolicies } from './pause.js';
import { powerActions, powerPolicies } from './power.js';
import { lockActions, lockPolicies } from './lock.js';
import { passwordActions, passwordPolicies } from './password.js';
import { adminActions, adminPolicies } from './admin.js';
import { rebuildActions, rebuildPolicies } from './rebuild.js';
import { rescueActions, rescuePolicies } from './rescue.js';
import { snapshotActions, snapshotPolicies } from './snapshot.js';
import { shelveActions, shelvePolicies } from './shelve.js';
import { deletedActions, deletedPolicies } from './deleted.js';
import { securityGroupsActions, securityGroupsPolicies } from './security-groups.js';
import { floatingIpsActions, floatingIpsPolicies } from './floating-ips.js';
import { fixedIpsActions, fixedIpsPolicies } from './fixed-ips.js';
import { consolesActions, consolesPolicies } from './consoles.js';
import { resizeActions, resizePolicies } from './resize.js';
import { liveMigrateActions, liveMigratePolicies } from './live-migrate.js';
import { evacuateActions, evacuatePolicies } from './evacuate.js';
import type { ActionDef } from './types.js';

/** Every server action, by body key. Add a new action group here. */
const ALL: ActionDef[] = [
  ...pauseActions,
  ...powerActions,
  ...lockActions,
  ...passwordActions,
  ...adminActions,
  ...rebuildActions,
  ...rescueActions,
  ...snapshotActions,
  ...shelveActions,
  ...deletedActions,
  ...securityGroupsActions,
  ...floatingIpsActions,
  ...fixedIpsActions,
  ...consolesActions,
  ...resizeActions,
  ...liveMigrateActions,
  ...evacuateActions,
];

export const actionPolicies: PolicyDefault[] = [
  ...pausePolicies,
  ...powerPolicies,
  ...lockPolicies,
  ...passwordPolicies,
  ...adminPolicies,
  ...rebuildPolicies,
  ...rescuePolicies,
  ...snapshotPolicies,
  ...shelvePolicies,
  ...deletedPolicies,
  ...securityGroupsPolicies,
  ...floatingIpsPolicies,
  ...fixedIpsPolicies,
  ...consolesPolicies,
  ...resizePolicies,
  ...liveMigratePolicies,
  ...evacuatePolicies,
];

const BY_KEY = new Map<string, ActionDef[]>();
for (const a of ALL) BY_KEY.set(a.key, [...(BY_KEY.get(a.key) ?? []), a]);

/**
 * POST /servers/{id}/action: exactly one body key names the action; an
 * unknown key is 400, an action outside its microversion range is 404, then
 * the body is validated and the server loaded (404 for another project's).
 */
export async function dispatchAction(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw badRequest('Malformed request body');
  }
  const key = Object.keys(body)[0] ?? '';
  const defs = BY_KEY.get(key);
  if (!defs) throw errors.noSuchAction(key);
  const def = defs.find((d) => (!d.min || req.mv.ge(d.min)) && (!d.max || req.mv.compare(d.max) <= 0));
  if (!def) throw notFound('The resource could not be found.');
  def.body.check(body, req.mv);
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  return def.handler(deps, req, inst);
}
