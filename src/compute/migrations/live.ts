import { eventFinish, eventStart } from '../actions/record.js';
import { computeTopic, schedulingSpec } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { hintedServers, hostStates } from '../host-states.js';
import { computeServiceStates } from '../os-services/repo.js';
import { casUpdate, findInstance, flavorOf, recordFault, type Instance } from '../servers/repo.js';
import { PowerState } from '../states.js';
import { isoMicro } from '../../lib/time.js';
import type { Mutex } from '../../lib/mutex.js';
import { defaultFilters, selectHosts, weighersFor } from '../../scheduler/scheduler.js';
import type { HostState } from '../../scheduler/types.js';
import { hostCpuInfo } from '../../virt/cpu.js';
import { createMigration, setMigration } from './repo.js';
import { isMessagingTimeout } from '../../bus/types.js';
import { NO_VALID_HOST } from './schedule.js';

/** What the API hands the conductor for os-migrateLive. */
export interface LiveMigrateRequest {
  uuid: string;
  requestId: string;
  /** The requested destination, or null for the scheduler's choice. */
  host: string | null;
  /** 2.30–2.67 `force`; null below 2.30, where a given host is taken as it is. */
  force: boolean | null;
  /** true/false, or null for `auto` (2.25+: decided by whether the hosts share storage). */
  blockMigration: boolean | null;
  /** Below 2.25 only. */
  diskOverCommit: boolean | null;
}

/** What a host's pre-check answers over the bus. */
export type PreCheckResult = { ok: true; blockMigration: boolean } | { ok: false; message: string; type?: string };

/** A pre-check failure that leaves the server as it was (Nova's MigrationPreCheckError and kin). */
export class PreCheckError extends Error {
  constructor(
    message: string,
    /** Whether the scheduler may try another destination after it (Nova's Invalid / MigrationPreCheckError). */
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'PreCheckError';
  }
}

/** What the conductor answers a synchronous (below 2.34) request: null when the migration started. */
export interface LiveMigrateResult {
  error: string | null;
}

interface Destination {
  host: string;
  node: string;
  availabilityZone: string;
  blockMigration: boolean;
}

/**
 * The conductor's live-migration task (Nova's LiveMigrationTask): record a
 * migration (`accepted`), pick and check a destination under the placement
 * lock, claim it (`queued`, src/compute/migrations/holdings.ts) and hand the
 * server to its source host. A pre-check failure leaves the server as it was
 * (task_state cleared, vm_state kept), records a fault and marks the
 * migration `error`; the API reports it as 400 below 2.34 and only through
 * the instance action from 2.34.
 */
export async function liveMigrate(deps: ComputeDeps, r: LiveMigrateRequest, placing: Mutex, skipped: () => Promise<Set<string>>): Promise<LiveMigrateResult> {
  const { db, clock, bus } = deps;
  const now = () => isoMicro(clock.now());
  const inst = await findInstance(db, r.uuid, { projectId: null });
  if (!inst || inst.task_state !== 'migrating' || !inst.host) return { error: null };
  const forced = r.host !== null && r.force !== false;
  const mig = await createMigration(db, {
    instanceUuid: inst.uuid,
    sourceCompute: inst.host,
    sourceNode: inst.node,
    oldFlavor: flavorOf(inst),
    newFlavor: flavorOf(inst),
    oldVmState: inst.vm_state,
    migrationType: 'live-migration',
    projectId: inst.project_id,
    userId: inst.user_id,
    now: now(),
    status: 'accepted',
    destCompute: forced ? r.host : null,
  });
  const ev = await eventStart(db, { instanceUuid: inst.uuid, requestId: r.requestId, event: 'conductor_live_migrate_instance', host: null }, now());
  let dest: Destination;
  try {
    dest = await placing.run(async () => {
      const d = forced ? await checkForced(deps, inst, r, r.host ?? '') : await findDestination(deps, inst, r, await skipped());
      // The claim: from `queued` the destination holds the server's flavor.
      await setMigration(db, mig.uuid, { dest_compute: d.host, dest_node: d.node, dest_host: deps.config.host, source_node: inst.node, status: 'queued' }, now());
      return d;
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const expected = err instanceof PreCheckError;
    if (!expected) deps.log.error({ err, uuid: inst.uuid }, 'live migration failed unexpectedly');
    const t = now();
    const reverted = await casUpdate(db, inst.uuid, ['migrating'], { task_state: null, ...(expected ? {} : { vm_state: 'error' }), updated_at: t });
    if (reverted) await recordFault(db, inst.uuid, { code: expected ? 400 : 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: t });
    await setMigration(db, mig.uuid, { status: 'error' }, t);
    await eventFinish(db, ev, t, err);
    return { error: expected ? message : `Migration error: ${message}` };
  }
  await eventFinish(db, ev, now());
  bus.cast(computeTopic(inst.host), 'live_migration', {
    uuid: inst.uuid,
    requestId: r.requestId,
    migrationUuid: mig.uuid,
    dest: dest.host,
    destAz: dest.availabilityZone,
    blockMigration: dest.blockMigration,
  });
  return { error: null };
}

async function checkSource(deps: ComputeDeps, inst: Instance): Promise<void> {
  if (inst.power_state !== PowerState.RUNNING && inst.power_state !== PowerState.PAUSED) {
    const name = Object.entries(PowerState).find(([, v]) => v === inst.power_state)?.[0].toLowerCase() ?? String(inst.power_state);
    throw new PreCheckError(`Instance ${inst.uuid} in power_state ${name}. Cannot live migrate while the instance is in this state.`, false);
  }
  await checkHostUp(deps, inst.host ?? '');
}

async function checkHostUp(deps: ComputeDeps, host: string): Promise<void> {
  const states = await computeServiceStates(deps);
  if (!states.get(host)?.up) throw new PreCheckError(`Compute service of ${host} is unavailable at this time.`, false);
}

/** A host given with `force` (or below 2.30): the scheduler is bypassed, only Nova's minimal checks run. */
async function checkForced(deps: ComputeDeps, inst: Instance, r: LiveMigrateRequest, host: string): Promise<Destination> {
  await checkSource(deps, inst);
  if (host === inst.host) throw new PreCheckError(`Unable to migrate instance (${inst.uuid}) to current host (${host}).`, false);
  await checkHostUp(deps, host);
  const state = (await hostStates(deps.db, deps.config, new Set())).find((h) => h.host === host);
  if (!state) throw new PreCheckError(`Compute host ${host} could not be found.`, false);
  const avail = state.memoryMb * state.ramAllocationRatio - state.usedMemoryMb;
  if (avail <= inst.memory_mb) {
    throw new PreCheckError(
      `Migration pre-check error: Unable to migrate ${inst.uuid} to ${host}: Lack of memory(host:${avail} <= instance:${inst.memory_mb})`,
      false,
    );
  }
  return hostChecks(deps, inst, r, state);
}

/** The scheduler picks destinations (the requested host only, when one was given without force) until one passes the host checks. */
async function findDestination(deps: ComputeDeps, inst: Instance, r: LiveMigrateRequest, skipped: Set<string>): Promise<Destination> {
  await checkSource(deps, inst);
  const source = inst.host ?? '';
  const attempted = [source];
  const maxRetries = deps.config.compute.migrate_max_retries;
  for (;;) {
    if (maxRetries !== -1 && attempted.length - 1 > maxRetries) {
      throw new PreCheckError(
        `Exceeded maximum number of retries. Exceeded max scheduling retries ${attempted.length - 1} for instance ${inst.uuid} during live migration`,
        false,
      );
    }
    const spec = await schedulingSpec(deps, inst, { ignoreHosts: [...attempted], requestedHost: r.host });
    const hosts = await hostStates(deps.db, deps.config, skipped, hintedServers(spec));
    const chosen = selectHosts(hosts, spec, defaultFilters, weighersFor(deps.config.scheduler))[0];
    if (!chosen) throw new PreCheckError(NO_VALID_HOST, false);
    try {
      return await hostChecks(deps, inst, r, chosen);
    } catch (err) {
      if (!(err instanceof PreCheckError) || !err.retryable) throw err;
      deps.log.debug({ host: chosen.host, err: err.message }, 'skipping live migration destination');
      attempted.push(chosen.host);
    }
  }
}

/**
 * The checks that involve the hosts themselves: the disk space a block
 * migration needs (below 2.25 without disk_over_commit), then the
 * destination's CPU comparison and storage marker, the source's view of
 * that marker (shared storage or not, deciding `auto`).
 */
async function hostChecks(deps: ComputeDeps, inst: Instance, r: LiveMigrateRequest, dest: HostState): Promise<Destination> {
  if (r.blockMigration === true && r.diskOverCommit === false) {
    const free = dest.diskGb - dest.usedDiskGb;
    const need = inst.root_gb + inst.ephemeral_gb;
    if (free < need) {
      throw new PreCheckError(
        `Migration pre-check error: Unable to migrate ${inst.uuid}: Disk of instance is too large(available on destination host:${free * 1024 ** 3} < need:${need * 1024 ** 3})`,
      );
    }
  }
  const source = deps.config.compute.hosts.find((h) => h.name === inst.host);
  if (!source) throw new PreCheckError(`Compute host ${inst.host ?? ''} could not be found.`, false);
  let res: PreCheckResult;
  try {
    res = (await deps.bus.call(computeTopic(dest.host), 'check_can_live_migrate_destination', {
      uuid: inst.uuid,
      requestId: r.requestId,
      source: source.name,
      sourceCpu: { ...hostCpuInfo(source) },
      blockMigration: r.blockMigration,
    })) as PreCheckResult;
  } catch (err) {
    if (!isMessagingTimeout(err)) throw err;
    throw new PreCheckError(`Migration pre-check error: Timeout while checking if we can live migrate to host: ${dest.host}`);
  }
  if (!res.ok) throw new PreCheckError(res.message);
  return { host: dest.host, node: dest.node, availabilityZone: dest.availabilityZone, blockMigration: res.blockMigration };
}
