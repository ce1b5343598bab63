import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { badRequest, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { CONDUCTOR_TOPIC } from '../conductor.js';
import type { EvacuateRequest } from '../migrations/evacuate.js';
import { createMigration } from '../migrations/repo.js';
import { computeServiceStates } from '../os-services/repo.js';
import { generatePassword } from '../servers/create.js';
import { asBool, obj, P } from '../servers/schema.js';
import { flavorOf } from '../servers/repo.js';
import { VmState } from '../states.js';
import { begin, check } from './start.js';
import { authorize, targetOf } from '../servers/common.js';
import type { ActionDef } from './types.js';

/**
 * evacuate: rebuild a server of a failed host on another one. Refused
 * while the source's compute service is up (400 `Compute service of <h> is
 * still in use.`); not lock-checked. The API records a migration
 * (`accepted`, type evacuation) and hands the server to the conductor
 * (src/compute/migrations/evacuate.ts), which places it; the destination
 * rebuilds it (src/agent/actions/evacuate.ts). The old host removes its
 * copy when it comes back. 200, with `adminPass` below 2.14; from 2.95 the
 * server ends stopped.
 */
export const EVACUATE_POLICY = 'os_compute_api:os-evacuate';

export const evacuatePolicies: PolicyDefault[] = [
  { name: EVACUATE_POLICY, check: ADMIN, description: 'Evacuate a server from a failed host to a new host', operations: [{ method: 'POST', path: '/servers/{server_id}/action (evacuate)' }] },
];

const HOST = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' });
const ADMIN_PASS = Type.String();

const body = schemaFor(
  { max: '2.13', schema: obj({ evacuate: obj({ host: HOST, onSharedStorage: P.boolean, adminPass: ADMIN_PASS }, ['onSharedStorage']) }, ['evacuate']) },
  { min: '2.14', max: '2.28', schema: obj({ evacuate: obj({ host: HOST, adminPass: ADMIN_PASS }) }, ['evacuate']) },
  { min: '2.29', max: '2.67', schema: obj({ evacuate: obj({ host: HOST, adminPass: ADMIN_PASS, force: P.boolean }) }, ['evacuate']) },
  { min: '2.68', schema: obj({ evacuate: obj({ host: HOST, adminPass: ADMIN_PASS }) }, ['evacuate']) },
);

interface Body {
  host?: string;
  onSharedStorage?: boolean | string;
  adminPass?: string;
  force?: boolean | string;
}

export const evacuateActions: ActionDef[] = [
  {
    key: 'evacuate',
    body,
    handler: async (deps, req, inst) => {
      const b = (req.body as { evacuate: Body }).evacuate;
      const host = b.host ?? null;
      // Nova checks the policy first, then the body, then the state.
      authorize(deps, req, EVACUATE_POLICY, targetOf(inst));
      let password: string | null;
      if (!req.mv.ge('2.14')) {
        const shared = asBool(b.onSharedStorage);
        if (b.adminPass !== undefined && shared) throw badRequest("admin password can't be changed on existing disk");
        password = b.adminPass ?? (shared ? null : generatePassword());
      } else {
        password = b.adminPass ?? generatePassword();
      }
      let force: boolean | null = null;
      if (req.mv.ge('2.29')) {
        force = b.force === undefined ? false : asBool(b.force);
        if (force && !host) throw badRequest("Can't force to a non-provided destination");
      }
      if (host !== null && !deps.config.compute.hosts.some((h) => h.name === host)) throw notFound(`Compute host ${host} not found.`);
      if (inst.host === host) throw badRequest("The target host can't be the same one.");
      check(deps, req, inst, { policy: EVACUATE_POLICY, stateAction: 'evacuate', vmStates: [VmState.ACTIVE, VmState.STOPPED, VmState.ERROR], lockChecked: false });
      const source = inst.host;
      const states = await computeServiceStates(deps);
      if (source && states.get(source)?.up) throw badRequest(`Compute service of ${source} is still in use.`);
      if (!source) throw badRequest('Compute service of None is still in use.');
      const updated = await begin(deps, req, inst, { stateAction: 'evacuate', action: 'evacuate', values: { task_state: 'rebuilding' } });
      const mig = await createMigration(deps.db, {
        instanceUuid: inst.uuid,
        sourceCompute: source,
        sourceNode: updated.node,
        oldFlavor: flavorOf(inst),
        newFlavor: flavorOf(inst),
        oldVmState: inst.vm_state,
        migrationType: 'evacuation',
        projectId: inst.project_id,
        userId: inst.user_id,
        now: isoMicro(deps.clock.now()),
        status: 'accepted',
        destCompute: host,
      });
      const r: EvacuateRequest = {
        uuid: inst.uuid,
        requestId: req.requestId,
        migrationUuid: mig.uuid,
        host,
        forced: host !== null && force !== false,
        adminPass: password,
        targetState: req.mv.ge('2.95') ? VmState.STOPPED : null,
      };
      deps.bus.cast(CONDUCTOR_TOPIC, 'evacuate_instance', { ...r });
      if (!req.mv.ge('2.14')) return { status: 200, body: { adminPass: password } };
      return { status: 200 };
    },
  },
];
