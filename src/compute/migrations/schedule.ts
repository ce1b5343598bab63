import type { ResizeRequest } from '../actions/resize.js';
import { eventFinish, eventStart } from '../actions/record.js';
import type { ComputeDeps } from '../deps.js';
import { hintedServers, hostStates } from '../host-states.js';
import { schedulingSpec } from '../conductor.js';
import { casUpdate, findInstance, recordFault } from '../servers/repo.js';
import { isoMicro } from '../../lib/time.js';
import type { Mutex } from '../../lib/mutex.js';
import { computeTopic } from '../conductor.js';
import { defaultFilters, selectHosts, weighersFor } from '../../scheduler/scheduler.js';
import type { RequestSpec } from '../../scheduler/types.js';
import { findMigration, flavorJson, setMigration } from './repo.js';
import { isMessagingTimeout } from '../../bus/types.js';
import { hostZone } from '../aggregates/repo.js';

export const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

/**
 * The conductor's half of a resize or cold migration (Nova's
 * migrate_server / MigrationTask): schedule a destination for the new
 * flavor, excluding the source unless `compute.allow_resize_to_same_host`,
 * record it on the migration and hand the server to its source host. No
 * valid host: the server keeps its state with task_state cleared, a fault
 * is recorded and the migration is `error` (as Nova does). Runs under the
 * conductor's placement lock.
 */
export async function scheduleResize(deps: ComputeDeps, r: ResizeRequest, skipped: ReadonlySet<string>): Promise<boolean> {
  const { db, config, clock } = deps;
  const now = () => isoMicro(clock.now());
  const inst = await findInstance(db, r.uuid, { projectId: null });
  const mig = await findMigration(db, r.migrationUuid);
  if (!inst || !mig || inst.task_state !== 'resize_prep' || mig.status !== 'pre-migrating') return false;
  const ev = await eventStart(db, { instanceUuid: r.uuid, requestId: r.requestId, event: 'conductor_migrate_server', host: null }, now());
  const f = flavorJson(mig.new_flavor);
  const source = mig.source_compute ?? '';
  // The server's own hints, server group and image apply to a move as to its build.
  const spec: RequestSpec = await schedulingSpec(deps, inst, {
    vcpus: f.vcpus,
    memoryMb: f.memory_mb,
    diskGb: f.root_gb + f.ephemeral_gb,
    ignoreHosts: config.compute.allow_resize_to_same_host ? [] : [source],
    requestedHost: r.requestedHost,
  });
  const hosts = await hostStates(db, config, skipped, hintedServers(spec));
  const chosen = selectHosts(hosts, spec, defaultFilters, weighersFor(config.scheduler))[0];
  if (!chosen) {
    const done = await casUpdate(db, r.uuid, ['resize_prep'], { task_state: null, updated_at: now() });
    await setMigration(db, mig.uuid, { status: 'error' }, now());
    if (done) await recordFault(db, r.uuid, { code: 500, message: NO_VALID_HOST, details: '', created_at: now() });
    await eventFinish(db, ev, now(), new Error(NO_VALID_HOST));
    return false;
  }
  const ok = await setMigration(db, mig.uuid, { dest_compute: chosen.host, dest_node: chosen.node, dest_host: config.host, status: 'migrating' }, now(), ['pre-migrating']);
  await eventFinish(db, ev, now());
  return ok;
}

/**
 * Calls a host's step; when the host is down (the call times out) the step
 * is queued for when it comes back instead, and the caller stops driving
 * the sequence: the host's restart recovery and the queued step resolve
 * the server then. Returns whether the step ran now.
 */
async function callOrQueue(deps: ComputeDeps, topic: string, method: string, args: Record<string, unknown>): Promise<boolean> {
  try {
    await deps.bus.call(topic, method, args);
    return true;
  } catch (err) {
    if (!isMessagingTimeout(err)) throw err;
    deps.log.warn({ topic, method, uuid: args.uuid }, 'compute host did not answer; the step waits for it');
    deps.bus.cast(topic, method, args);
    return false;
  }
}

/**
 * Drives a resize or cold migration (`resize_instance`) or a revert
 * (`revert_resize`) through its hosts: scheduling under the conductor's
 * placement lock, then each host's step in turn, outside the lock. Each
 * step checks the server's task_state and the migration's status, so a
 * failed step stops the sequence.
 */
export async function moveServer(
  deps: ComputeDeps,
  method: 'resize_instance' | 'revert_resize',
  args: Record<string, unknown>,
  placing: Mutex,
  skipped: () => Promise<Set<string>>,
): Promise<void> {
  const { db } = deps;
  const r = args as unknown as ResizeRequest;
  const base = { uuid: r.uuid, requestId: r.requestId, migrationUuid: r.migrationUuid };
  // The server takes the zone of the host it lands on (and gets its old one back on revert).
  const zoneOf = (host: string): string => hostZone(deps, host);
  if (method === 'resize_instance') {
    if (!(await placing.run(async () => scheduleResize(deps, r, await skipped())))) return;
    const mig = await findMigration(db, r.migrationUuid);
    if (!mig?.source_compute || !mig.dest_compute) return;
    if (!(await callOrQueue(deps, computeTopic(mig.source_compute), 'resize_instance', base))) return;
    if ((await findMigration(db, r.migrationUuid))?.status !== 'post-migrating') return;
    await callOrQueue(deps, computeTopic(mig.dest_compute), 'finish_resize', { ...base, availabilityZone: zoneOf(mig.dest_compute) });
    return;
  }
  const mig = await findMigration(db, r.migrationUuid);
  if (!mig?.source_compute || !mig.dest_compute) return;
  if (!(await callOrQueue(deps, computeTopic(mig.dest_compute), 'revert_resize', base))) return;
  const after = await findMigration(db, r.migrationUuid);
  const inst = await findInstance(db, r.uuid, { projectId: null });
  if (after?.status !== 'reverting' || inst?.task_state !== 'resize_reverting') return;
  await callOrQueue(deps, computeTopic(mig.source_compute), 'finish_revert_resize', { ...base, availabilityZone: zoneOf(mig.source_compute) });
}
