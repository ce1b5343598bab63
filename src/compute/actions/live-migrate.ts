import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { badRequest } from '../../errors.js';
import { PROJECT_MANAGER_OR_ADMIN, ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { CONDUCTOR_TOPIC } from '../conductor.js';
import type { LiveMigrateRequest, LiveMigrateResult } from '../migrations/live.js';
import { asBool, obj, P } from '../servers/schema.js';
import { VmState } from '../states.js';
import { begin, check } from './start.js';
import type { ActionDef } from './types.js';

/**
 * os-migrateLive: the API half of live migration. Checks (policy by
 * whether a host is given, lock, ACTIVE or PAUSED with no task), the host
 * must exist, task_state `migrating` and the `live-migration` action, then
 * the conductor (src/compute/migrations/live.ts). Below 2.34 the call waits
 * for the conductor's pre-checks and answers their failure with 400; from
 * 2.34 it returns 202 at once and a failure shows only in the instance
 * action (the server stays ACTIVE).
 */
export const LIVE_MIGRATE_POLICY = {
  migrateLive: 'os_compute_api:os-migrate-server:migrate_live',
  migrateLiveHost: 'os_compute_api:os-migrate-server:migrate_live:host',
};

export const liveMigratePolicies: PolicyDefault[] = [
  {
    name: LIVE_MIGRATE_POLICY.migrateLive,
    check: PROJECT_MANAGER_OR_ADMIN,
    description: 'Live migrate a server to a new host without a reboot, without specifying a host',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (os-migrateLive)' }],
  },
  {
    name: LIVE_MIGRATE_POLICY.migrateLiveHost,
    check: ADMIN,
    description: 'Live migrate a server to a specified host without a reboot',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (os-migrateLive)' }],
  },
];

const HOST = Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' }), Type.Null()]);
const BLOCK_AUTO = Type.Union([P.boolean, Type.Literal('auto')]);

const body = schemaFor(
  { max: '2.24', schema: obj({ 'os-migrateLive': obj({ block_migration: P.boolean, disk_over_commit: P.boolean, host: HOST }, ['block_migration', 'disk_over_commit', 'host']) }, ['os-migrateLive']) },
  { min: '2.25', max: '2.29', schema: obj({ 'os-migrateLive': obj({ block_migration: BLOCK_AUTO, host: HOST }, ['block_migration', 'host']) }, ['os-migrateLive']) },
  { min: '2.30', max: '2.67', schema: obj({ 'os-migrateLive': obj({ block_migration: BLOCK_AUTO, host: HOST, force: P.boolean }, ['block_migration', 'host']) }, ['os-migrateLive']) },
  { min: '2.68', schema: obj({ 'os-migrateLive': obj({ block_migration: BLOCK_AUTO, host: HOST }, ['block_migration', 'host']) }, ['os-migrateLive']) },
);

interface Body {
  block_migration: boolean | string;
  disk_over_commit?: boolean | string;
  host: string | null;
  force?: boolean | string;
}

export const liveMigrateActions: ActionDef[] = [
  {
    key: 'os-migrateLive',
    body,
    handler: async (deps, req, inst) => {
      const b = (req.body as { 'os-migrateLive': Body })['os-migrateLive'];
      const host = b.host;
      check(deps, req, inst, {
        policy: host ? LIVE_MIGRATE_POLICY.migrateLiveHost : LIVE_MIGRATE_POLICY.migrateLive,
        target: 'project',
        stateAction: 'os-migrateLive',
        vmStates: [VmState.ACTIVE, VmState.PAUSED],
      });
      let force: boolean | null = null;
      if (req.mv.ge('2.30')) {
        force = b.force === undefined ? false : asBool(b.force);
        if (force && !host) throw badRequest("Can't force to a non-provided destination");
      }
      const blockMigration = req.mv.ge('2.25') && b.block_migration === 'auto' ? null : asBool(b.block_migration);
      const diskOverCommit = req.mv.ge('2.25') ? null : asBool(b.disk_over_commit);
      if (host && !deps.config.compute.hosts.some((h) => h.name === host)) throw badRequest(`Compute host ${host} could not be found.`);
      await begin(deps, req, inst, { stateAction: 'os-migrateLive', action: 'live-migration', values: { task_state: 'migrating' } });
      const r: LiveMigrateRequest = { uuid: inst.uuid, requestId: req.requestId, host: host || null, force, blockMigration, diskOverCommit };
      if (req.mv.ge('2.34')) {
        deps.bus.cast(CONDUCTOR_TOPIC, 'live_migrate_instance', { ...r });
        return { status: 202 };
      }
      const res = (await deps.bus.call(CONDUCTOR_TOPIC, 'live_migrate_instance', { ...r })) as LiveMigrateResult;
      if (res.error !== null) throw badRequest(res.error);
      return { status: 202 };
    },
  },
];
