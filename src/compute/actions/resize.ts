import { Type } from '@sinclair/typebox';
import type { ComputeRequest } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, errors } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { ADMIN, PROJECT_MANAGER_OR_ADMIN, PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { CONDUCTOR_TOPIC } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { createMigration, migrationOf, setMigration } from '../migrations/repo.js';
import { checkServerQuota } from '../resources/quota.js';
import { findFlavor, flavorSnapshot, type FlavorSnapshot } from '../resources/flavors-repo.js';
import { obj, P } from '../servers/schema.js';
import { flavorOf, type Instance } from '../servers/repo.js';
import { VmState } from '../states.js';
import { begin, check, recordRequestAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * resize, migrate (cold), confirmResize and revertResize: Nova's
 * resize/confirm/revert cycle. The API takes task_state resize_prep and
 * writes a migration (`pre-migrating`); the conductor picks a destination
 * (Conductor.resizeInstance); the source host sends the guest away
 * (resize_migrating, resize_migrated), the destination finishes it
 * (resize_finish) and the server waits in VERIFY_RESIZE until it is
 * confirmed (source freed) or reverted (back on the source, old flavor).
 */
export const RESIZE_POLICY = {
  resize: 'os_compute_api:servers:resize',
  confirm: 'os_compute_api:servers:confirm_resize',
  revert: 'os_compute_api:servers:revert_resize',
  migrate: 'os_compute_api:os-migrate-server:migrate',
  migrateHost: 'os_compute_api:os-migrate-server:migrate:host',
};

export const resizePolicies: PolicyDefault[] = [
  { name: RESIZE_POLICY.resize, check: PROJECT_MEMBER_OR_ADMIN, description: 'Resize a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (resize)' }] },
  { name: RESIZE_POLICY.confirm, check: PROJECT_MEMBER_OR_ADMIN, description: 'Confirm a server resize', operations: [{ method: 'POST', path: '/servers/{server_id}/action (confirmResize)' }] },
  { name: RESIZE_POLICY.revert, check: PROJECT_MEMBER_OR_ADMIN, description: 'Revert a server resize', operations: [{ method: 'POST', path: '/servers/{server_id}/action (revertResize)' }] },
  { name: RESIZE_POLICY.migrate, check: PROJECT_MANAGER_OR_ADMIN, description: 'Cold migrate a server without specifying a host', operations: [{ method: 'POST', path: '/servers/{server_id}/action (migrate)' }] },
  { name: RESIZE_POLICY.migrateHost, check: ADMIN, description: 'Cold migrate a server to a specified host', operations: [{ method: 'POST', path: '/servers/{server_id}/action (migrate)' }] },
];

/** What the conductor receives to place a resize or cold migration. */
export interface ResizeRequest {
  uuid: string;
  requestId: string;
  migrationUuid: string;
  requestedHost: string | null;
}

const HOSTNAME_OR_IP = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._:]*$' });

async function startMove(
  deps: ComputeDeps,
  req: ComputeRequest,
  inst: Instance,
  m: { action: 'resize' | 'migrate'; newFlavor: FlavorSnapshot; requestedHost: string | null },
): Promise<void> {
  const oldFlavor = flavorOf(inst);
  const source = inst.host;
  if (!source) throw errors.instanceNotReady(inst.uuid);
  const updated = await begin(deps, req, inst, { stateAction: m.action, action: m.action, values: { task_state: 'resize_prep', progress: 0 } });
  const mig = await createMigration(deps.db, {
    instanceUuid: inst.uuid,
    sourceCompute: source,
    sourceNode: updated.node,
    oldFlavor,
    newFlavor: m.newFlavor,
    oldVmState: inst.vm_state,
    migrationType: m.action === 'resize' ? 'resize' : 'migration',
    projectId: inst.project_id,
    userId: inst.user_id,
    now: isoMicro(deps.clock.now()),
  });
  const r: ResizeRequest = { uuid: inst.uuid, requestId: req.requestId, migrationUuid: mig.uuid, requestedHost: m.requestedHost };
  deps.bus.cast(CONDUCTOR_TOPIC, 'resize_instance', { ...r });
}

const MOVE_STATES = [VmState.ACTIVE, VmState.STOPPED];

export const resizeActions: ActionDef[] = [
  {
    key: 'resize',
    body: schemaFor({ schema: obj({ resize: obj({ flavorRef: P.flavorRef, 'OS-DCF:diskConfig': P.diskConfig }, ['flavorRef']) }, ['resize']) }),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, { policy: RESIZE_POLICY.resize, stateAction: 'resize', vmStates: MOVE_STATES });
      const body = (req.body as { resize: { flavorRef: string | number } }).resize;
      const flavor = await findFlavor(deps.db, body.flavorRef, { projectId: req.ctx.projectId, isAdmin: req.ctx.isAdmin });
      if (!flavor) throw badRequest(`Flavor ${String(body.flavorRef)} could not be found.`);
      const old = flavorOf(inst);
      if (flavor.flavorid === old.flavorid) throw badRequest('When resizing, instances must change flavor!');
      const cores = flavor.vcpus - old.vcpus;
      const ram = flavor.memory_mb - old.memory_mb;
      if (cores > 0 || ram > 0) {
        await checkServerQuota(deps.db, deps.config, inst.project_id, inst.user_id, { cores: Math.max(cores, 0), ram: Math.max(ram, 0) });
      }
      await startMove(deps, req, inst, { action: 'resize', newFlavor: flavorSnapshot(flavor), requestedHost: null });
      return { status: 202 };
    },
  },
  {
    key: 'migrate',
    max: '2.55',
    body: schemaFor({ schema: Type.Object({ migrate: Type.Unknown() }, { additionalProperties: true }) }),
    handler: async (deps, req, inst) => migrate(deps, req, inst, null),
  },
  {
    key: 'migrate',
    min: '2.56',
    body: schemaFor({ schema: obj({ migrate: Type.Union([obj({ host: HOSTNAME_OR_IP }), Type.Null()]) }, ['migrate']) }),
    handler: async (deps, req, inst) => {
      const body = (req.body as { migrate: { host?: string } | null }).migrate;
      return migrate(deps, req, inst, body?.host ?? null);
    },
  },
  {
    key: 'confirmResize',
    body: schemaFor({ schema: obj({ confirmResize: Type.Null() }, ['confirmResize']) }),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, { policy: RESIZE_POLICY.confirm, stateAction: 'confirmResize', vmStates: [VmState.RESIZED] });
      const mig = await migrationOf(deps.db, inst.uuid, ['finished']);
      if (!mig?.source_compute) throw badRequest('Instance has not been resized.');
      const now = isoMicro(deps.clock.now());
      if (!(await setMigration(deps.db, mig.uuid, { status: 'confirming' }, now, ['finished']))) throw badRequest('Instance has not been resized.');
      await recordRequestAction(deps, req, inst, 'confirmResize', now);
      deps.bus.cast(`compute.${mig.source_compute}`, 'confirm_resize', { uuid: inst.uuid, requestId: req.requestId, migrationUuid: mig.uuid });
      return { status: 204 };
    },
  },
  {
    key: 'revertResize',
    body: schemaFor({ schema: obj({ revertResize: Type.Null() }, ['revertResize']) }),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, { policy: RESIZE_POLICY.revert, stateAction: 'revertResize', vmStates: [VmState.RESIZED] });
      const mig = await migrationOf(deps.db, inst.uuid, ['finished']);
      if (!mig) throw badRequest('Instance has not been resized.');
      const updated = await begin(deps, req, inst, { stateAction: 'revertResize', action: 'revertResize', values: { task_state: 'resize_reverting' } });
      await setMigration(deps.db, mig.uuid, { status: 'reverting' }, isoMicro(deps.clock.now()));
      if (!updated.host) throw errors.instanceNotReady(inst.uuid);
      const r: ResizeRequest = { uuid: inst.uuid, requestId: req.requestId, migrationUuid: mig.uuid, requestedHost: null };
      deps.bus.cast(CONDUCTOR_TOPIC, 'revert_resize', { ...r });
      return { status: 202 };
    },
  },
];

async function migrate(deps: ComputeDeps, req: ComputeRequest, inst: Instance, host: string | null): Promise<{ status: number }> {
  check(deps, req, inst, { policy: host ? RESIZE_POLICY.migrateHost : RESIZE_POLICY.migrate, target: 'project', stateAction: 'migrate', vmStates: MOVE_STATES });
  if (host !== null) {
    if (!deps.config.compute.hosts.some((h) => h.name === host)) throw badRequest(`Compute host ${host} could not be found.`);
    if (host === inst.host) throw badRequest('Cannot migrate to the host where the server exists.');
  }
  await startMove(deps, req, inst, { action: 'migrate', newFlavor: flavorOf(inst), requestedHost: host });
  return { status: 202 };
}
