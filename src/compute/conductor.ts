import type { ComputeDeps } from './deps.js';
import { hintedServers, hostStates } from './host-states.js';
import { casUpdate, findInstance, flavorOf, markDeleted, recordFault, type Instance } from './servers/repo.js';
import { closeInterruptedEvents } from './interrupted.js';
import { deleteShelvedImage } from './actions/image-support.js';
import { TaskState, VmState } from './states.js';
import { isoMicro } from '../lib/time.js';
import { Mutex } from '../lib/mutex.js';
import { eventFinish, eventStart } from './actions/record.js';
import { defaultFilters, selectHosts, weighersFor } from '../scheduler/scheduler.js';
import type { HostState, ImageRequirements, RequestSpec } from '../scheduler/types.js';
import { unschedulableHosts } from './os-services/repo.js';
import { schedulingGroupOf } from './server-groups/repo.js';
import { moveServer, NO_VALID_HOST } from './migrations/schedule.js';
import { liveMigrate, type LiveMigrateRequest } from './migrations/live.js';
import { evacuate, type EvacuateRequest } from './migrations/evacuate.js';

export const CONDUCTOR_TOPIC = 'conductor';
export const computeTopic = (host: string): string => `compute.${host}`;

export interface BuildRequest {
  uuid: string;
  adminPass: string | null;
  /** The create request's id, for the instance-action events. */
  requestId?: string;
  requestedHost?: string | null;
  requestedNode?: string | null;
  /** A build that failed on a host comes back with the scheduler's remaining alternates (Nova's host_list). */
  reschedule?: boolean;
  alternates?: string[];
}

/** The fault of a build that failed on every host it could try (Nova's MaxRetriesExceeded). */
export const exhausted = (uuid: string): string =>
  `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${uuid}.`;

/** An unshelve handed to the conductor by the API (src/compute/actions/shelve.ts). */
export interface UnshelveRequest {
  uuid: string;
  requestId: string | null;
  /** 2.91 `host` (admin), or null. */
  requestedHost?: string | null;
}

/** A same_host / different_host hint's servers: a uuid or a list of them. */
function hintList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The scheduler's request for a server: its flavor, zone and stored
 * scheduler hints (same_host / different_host). The server group part
 * (`group`, `groupHosts`) needs the database and comes in `extra`
 * (server-groups/repo.ts schedulingGroupOf).
 */
export function requestSpecFor(i: Instance, extra: Partial<RequestSpec> = {}): RequestSpec {
  const f = flavorOf(i);
  const hints = JSON.parse(i.scheduler_hints || '{}') as Record<string, unknown>;
  return {
    vcpus: f.vcpus,
    memoryMb: f.memory_mb,
    diskGb: f.root_gb + f.ephemeral_gb,
    availabilityZone: i.requested_az,
    ignoreHosts: [],
    requestedHost: null,
    requestedNode: null,
    sameHost: hintList(hints.same_host),
    differentHost: hintList(hints.different_host),
    ...extra,
  };
}

/** The scheduling requirements of an image: its architecture, hypervisor type and vm mode properties (new or legacy names). */
export async function imageRequirementsOf(deps: ComputeDeps, imageRef: string): Promise<ImageRequirements | undefined> {
  if (!imageRef) return undefined;
  const img = await deps.imageService.getImage(imageRef).catch(() => null);
  if (!img) return undefined;
  const p = img.properties;
  const pick = (...keys: string[]): string | undefined => keys.map((k) => p[k]).find((v) => typeof v === 'string' && v !== '');
  const req: ImageRequirements = {};
  const arch = pick('hw_architecture', 'architecture');
  const hv = pick('img_hv_type', 'hypervisor_type');
  const mode = pick('hw_vm_mode', 'vm_mode');
  if (arch !== undefined) req.architecture = arch;
  if (hv !== undefined) req.hypervisorType = hv;
  if (mode !== undefined) req.vmMode = mode;
  return Object.keys(req).length > 0 ? req : undefined;
}

/**
 * Everything the scheduler checks for a server: its flavor, zone and hints
 * (requestSpecFor), its server group and its image's requirements, then
 * `extra` (the move's own flavor, ignored or requested hosts).
 */
export async function schedulingSpec(deps: ComputeDeps, inst: Instance, extra: Partial<RequestSpec> = {}): Promise<RequestSpec> {
  const group = await schedulingGroupOf(deps.db, inst.uuid);
  const image = await imageRequirementsOf(deps, inst.image_ref);
  return requestSpecFor(inst, { ...(group ?? {}), ...(image ? { image } : {}), ...extra });
}

/**
 * The conductor: takes new servers from the API, asks the scheduler for a
 * host and hands each server to its compute host. Placement decisions are
 * serialised so two builds never claim the same last free capacity.
 */
export class Conductor {
  private readonly placing = new Mutex();
  constructor(private readonly deps: ComputeDeps) {}

  /** Hosts the scheduler skips: disabled, forced down or silent compute services (os-services). */
  private skippedHosts(): Promise<Set<string>> {
    return unschedulableHosts(this.deps);
  }

  handle = async (method: string, args: Record<string, unknown>): Promise<unknown> => {
    switch (method) {
      case 'build_instances':
        await this.buildInstances(args.builds as BuildRequest[]);
        return null;
      case 'unshelve_instance':
        await this.placing.run(() => this.unshelve(args as unknown as UnshelveRequest));
        return null;
      case 'resize_instance':
      case 'revert_resize':
        await moveServer(this.deps, method, args, this.placing, () => this.skippedHosts());
        return null;
      case 'live_migrate_instance':
        return liveMigrate(this.deps, args as unknown as LiveMigrateRequest, this.placing, () => this.skippedHosts());
      case 'evacuate_instance':
        await evacuate(this.deps, args as unknown as EvacuateRequest, this.placing, () => this.skippedHosts());
        return null;
      default:
        throw new Error(`conductor: unknown method ${method}`);
    }
  };

  async buildInstances(builds: BuildRequest[]): Promise<void> {
    for (const b of builds) {
      await this.placing.run(() => this.place(b));
    }
  }

  private async place(b: BuildRequest): Promise<void> {
    const { db, config, clock, bus } = this.deps;
    const inst = await findInstance(db, b.uuid, { projectId: null });
    if (!inst || inst.task_state !== TaskState.SCHEDULING) return;
    const ev = b.requestId
      ? await eventStart(db, { instanceUuid: b.uuid, requestId: b.requestId, event: 'conductor_schedule_and_build_instances', host: null }, isoMicro(clock.now()))
      : undefined;
    const spec = await schedulingSpec(this.deps, inst, { requestedHost: b.requestedHost ?? null, requestedNode: b.requestedNode ?? null });
    const hosts = await hostStates(db, config, await this.skippedHosts(), hintedServers(spec));
    let chosen: HostState | undefined;
    let alternates: string[];
    if (b.reschedule) {
      // A retry takes the first alternate that still passes the filters; the scheduler is not asked again.
      const left = [...(b.alternates ?? [])];
      while (left.length > 0 && !chosen) {
        const name = left.shift();
        const h = hosts.find((x) => x.host === name);
        if (h) chosen = selectHosts([h], spec, defaultFilters, weighersFor(config.scheduler))[0];
      }
      alternates = left;
    } else {
      const ranked = selectHosts(hosts, spec, defaultFilters, weighersFor(config.scheduler));
      chosen = ranked[0];
      alternates = ranked.slice(1, config.compute.max_attempts).map((h) => h.host);
    }
    const now = isoMicro(clock.now());
    if (!chosen) {
      const updated = await casUpdate(db, b.uuid, [TaskState.SCHEDULING], {
        vm_state: VmState.ERROR,
        task_state: null,
        updated_at: now,
      });
      const message = b.reschedule ? exhausted(b.uuid) : NO_VALID_HOST;
      if (updated) await recordFault(db, b.uuid, { code: 500, message, details: '', created_at: now });
      await eventFinish(db, ev, now, new Error(message));
      return;
    }
    const claimed = await casUpdate(db, b.uuid, [TaskState.SCHEDULING], {
      host: chosen.host,
      node: chosen.node,
      availability_zone: chosen.availabilityZone,
      updated_at: now,
    });
    await eventFinish(db, ev, now);
    if (!claimed) return;
    bus.cast(computeTopic(chosen.host), 'build_and_run_instance', {
      uuid: b.uuid,
      adminPass: b.adminPass,
      requestId: b.requestId ?? null,
      // With max_attempts 1 a failed build is final; otherwise it goes back to the conductor with what is left.
      retry: config.compute.max_attempts > 1,
      alternates,
    });
  }

  /**
   * Unshelve (Nova's conductor unshelve_instance): a shelved server still
   * has its host and is powered on there; an offloaded one is scheduled
   * again (requested zone and host honoured) and handed to the chosen host.
   * No valid host: the server stays offloaded with task_state cleared.
   */
  private async unshelve(u: UnshelveRequest): Promise<void> {
    const { db, config, clock, bus } = this.deps;
    const inst = await findInstance(db, u.uuid, { projectId: null });
    if (!inst || inst.task_state !== 'unshelving') return;
    const now = () => isoMicro(clock.now());
    if (inst.vm_state === VmState.SHELVED) {
      if (!inst.host) return;
      if (await casUpdate(db, u.uuid, ['unshelving'], { task_state: 'powering-on', updated_at: now() })) {
        bus.cast(computeTopic(inst.host), 'unshelve_instance', { uuid: u.uuid, requestId: u.requestId });
      }
      return;
    }
    if (inst.vm_state !== VmState.SHELVED_OFFLOADED) return;
    const ev = u.requestId
      ? await eventStart(db, { instanceUuid: u.uuid, requestId: u.requestId, event: 'schedule_instances', host: null }, now())
      : undefined;
    const spec = await schedulingSpec(this.deps, inst, { requestedHost: u.requestedHost ?? null });
    const hosts = await hostStates(db, config, await this.skippedHosts(), hintedServers(spec));
    const chosen = selectHosts(hosts, spec, defaultFilters, weighersFor(config.scheduler))[0];
    if (!chosen) {
      await casUpdate(db, u.uuid, ['unshelving'], { task_state: null, updated_at: now() });
      await eventFinish(db, ev, now(), new Error(NO_VALID_HOST));
      return;
    }
    const claimed = await casUpdate(db, u.uuid, ['unshelving'], {
      host: chosen.host,
      node: chosen.node,
      availability_zone: chosen.availabilityZone,
      updated_at: now(),
    });
    await eventFinish(db, ev, now());
    if (claimed) bus.cast(computeTopic(chosen.host), 'unshelve_instance', { uuid: u.uuid, requestId: u.requestId });
  }

  /**
   * After a restart, the servers no compute host recovers (ComputeAgent.init
   * handles those on a configured host): servers waiting for a host are
   * placed again, offloaded servers being unshelved are placed again (or go
   * back to SHELVED_OFFLOADED when no host is valid). A server left
   * half-way on a host that is no longer configured is deleted locally when
   * it was being deleted (as Nova's API does when the host is down), else
   * set to ERROR. Anything else without a host has its task_state cleared.
   */
  async recover(): Promise<void> {
    const { db, config, clock, bus, log, network } = this.deps;
    const hosts = new Set(config.compute.hosts.map((h) => h.name));
    const rows = await db.selectFrom('instances').selectAll().where('deleted', '=', 0).where('task_state', 'is not', null).orderBy('id').execute();
    const now = () => isoMicro(clock.now());
    const builds: BuildRequest[] = [];
    for (const inst of rows) {
      if (inst.host !== null && hosts.has(inst.host)) continue;
      await closeInterruptedEvents(db, inst.uuid, now());
      const task = inst.task_state;
      if (inst.host === null && task === TaskState.SCHEDULING) {
        builds.push({ uuid: inst.uuid, adminPass: null, ...(await this.lastRequestId(inst.uuid, 'create')) });
        continue;
      }
      if (inst.host === null && task === 'unshelving' && inst.vm_state === VmState.SHELVED_OFFLOADED) {
        const { requestId } = await this.lastRequestId(inst.uuid, 'unshelve');
        const req: UnshelveRequest = { uuid: inst.uuid, requestId: requestId ?? null, requestedHost: null };
        bus.cast(CONDUCTOR_TOPIC, 'unshelve_instance', { ...req });
        continue;
      }
      log.info({ uuid: inst.uuid, host: inst.host, vm_state: inst.vm_state, task_state: task }, 'recovering server without a compute host');
      if (task === TaskState.DELETING || task === TaskState.SOFT_DELETING) {
        await deleteShelvedImage(this.deps, inst);
        await network.deallocate(inst.uuid);
        await markDeleted(db, inst, now());
        continue;
      }
      if (inst.host !== null || inst.vm_state === VmState.BUILDING) {
        const message = inst.host !== null ? `Compute host ${inst.host} could not be found.` : 'The service restarted while the server was being built.';
        if (await casUpdate(db, inst.uuid, [task], { vm_state: VmState.ERROR, task_state: null, updated_at: now() })) {
          await recordFault(db, inst.uuid, { code: 500, message, details: '', created_at: now() });
        }
        continue;
      }
      await casUpdate(db, inst.uuid, [task], { task_state: null, updated_at: now() });
    }
    if (builds.length > 0) bus.cast(CONDUCTOR_TOPIC, 'build_instances', { builds });
  }

  /** The request id of the server's latest instance action of a kind, so re-sent work is recorded under it. */
  private async lastRequestId(uuid: string, action: string): Promise<{ requestId?: string }> {
    const row = await this.deps.db
      .selectFrom('instance_actions')
      .select('request_id')
      .where('instance_uuid', '=', uuid)
      .where('action', '=', action)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row ? { requestId: row.request_id } : {};
  }
}
