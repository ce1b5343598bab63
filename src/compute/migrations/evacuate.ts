import { eventFinish, eventStart } from '../actions/record.js';
import { computeTopic, schedulingSpec } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { hintedServers, hostStates } from '../host-states.js';
import { casUpdate, findInstance, recordFault } from '../servers/repo.js';
import { VmState } from '../states.js';
import { isoMicro } from '../../lib/time.js';
import type { Mutex } from '../../lib/mutex.js';
import { defaultFilters, selectHosts, weighersFor } from '../../scheduler/scheduler.js';
import type { HostState } from '../../scheduler/types.js';
import { findMigration, setMigration } from './repo.js';
import { NO_VALID_HOST } from './schedule.js';

/** What the API hands the conductor for an evacuation. */
export interface EvacuateRequest {
  uuid: string;
  requestId: string;
  migrationUuid: string;
  /** The requested host, or null for the scheduler's choice. */
  host: string | null;
  /** The host is taken as it is (force, or below 2.29), only its capacity checked. */
  forced: boolean;
  /** Set in the rebuilt guest; null keeps the old one (on shared storage, below 2.14). */
  adminPass: string | null;
  /** 2.95: the server ends stopped whatever it was. */
  targetState: string | null;
}

/** Whether a forced destination has room for the server (Placement's claim, without the scheduler's filters). */
function fits(h: HostState, need: { vcpus: number; memoryMb: number; diskGb: number }): boolean {
  return (
    h.usedVcpus + need.vcpus <= h.vcpus * h.cpuAllocationRatio &&
    h.usedMemoryMb + need.memoryMb <= h.memoryMb * h.ramAllocationRatio &&
    h.usedDiskGb + need.diskGb <= h.diskGb * h.diskAllocationRatio
  );
}

/**
 * The conductor's half of an evacuation (Nova's rebuild_instance with
 * evacuate): place the server away from its failed host (the scheduler,
 * or a forced host's capacity), claim the destination on the migration
 * (`pre-migrating`: the destination holds the flavor while it rebuilds;
 * the server stays on its source until the rebuild succeeds, then `done`:
 * the source keeps its share until the old host comes back and cleans up;
 * src/compute/migrations/holdings.ts) and hand it to the destination. No
 * valid host: ERROR with a fault, migration `error`, as Nova does.
 */
export async function evacuate(deps: ComputeDeps, r: EvacuateRequest, placing: Mutex, skipped: () => Promise<Set<string>>): Promise<void> {
  const { db, config, clock, bus } = deps;
  const now = () => isoMicro(clock.now());
  const claimed = await placing.run(async () => {
    const inst = await findInstance(db, r.uuid, { projectId: null });
    const mig = await findMigration(db, r.migrationUuid);
    if (!inst || !mig || inst.task_state !== 'rebuilding' || mig.status !== 'accepted' || !inst.host) return null;
    const ev = await eventStart(db, { instanceUuid: r.uuid, requestId: r.requestId, event: 'conductor_rebuild_instance', host: null }, now());
    let chosen: HostState | undefined;
    if (r.forced && r.host) {
      const h = (await hostStates(db, config, new Set())).find((x) => x.host === r.host);
      if (h && fits(h, { vcpus: inst.vcpus, memoryMb: inst.memory_mb, diskGb: inst.root_gb + inst.ephemeral_gb })) chosen = h;
    } else {
      const spec = await schedulingSpec(deps, inst, { ignoreHosts: [inst.host], requestedHost: r.host });
      const hosts = await hostStates(db, config, await skipped(), hintedServers(spec));
      chosen = selectHosts(hosts, spec, defaultFilters, weighersFor(config.scheduler))[0];
    }
    if (!chosen) {
      const t = now();
      const done = await casUpdate(db, r.uuid, ['rebuilding'], { vm_state: VmState.ERROR, task_state: null, updated_at: t });
      if (done) await recordFault(db, r.uuid, { code: 500, message: NO_VALID_HOST, details: '', created_at: t });
      await setMigration(db, mig.uuid, { status: 'error' }, t);
      await eventFinish(db, ev, t, new Error(NO_VALID_HOST));
      return null;
    }
    const t = now();
    // The claim: from `pre-migrating` the destination holds the flavor; the server stays on its source until the rebuild succeeds.
    await setMigration(db, mig.uuid, { dest_compute: chosen.host, dest_node: chosen.node, dest_host: config.host, status: 'pre-migrating' }, t, ['accepted']);
    await eventFinish(db, ev, t);
    return { host: chosen.host, az: chosen.availabilityZone };
  });
  if (!claimed) return;
  bus.cast(computeTopic(claimed.host), 'evacuate_instance', {
    destAz: claimed.az,
    uuid: r.uuid,
    requestId: r.requestId,
    migrationUuid: r.migrationUuid,
    adminPass: r.adminPass,
    targetState: r.targetState,
  });
}
