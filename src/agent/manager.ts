import { casUpdate, findInstance, flavorOf, instanceName, markDeleted, recordFault, type Instance } from '../compute/servers/repo.js';
import { PowerState, TaskState, VmState } from '../compute/states.js';
import type { NicRequest } from '../network/model.js';
import type { GuestSpec } from '../virt/driver.js';
import { AgentContext, type AgentDeps, type AgentOp } from './context.js';
import { pauseOps } from './actions/pause.js';
import { powerOps } from './actions/power.js';
import { passwordOps } from './actions/password.js';
import { adminOps } from './actions/admin.js';
import { rebuildOps } from './actions/rebuild.js';
import { rescueOps } from './actions/rescue.js';
import { snapshotOps } from './actions/snapshot.js';
import { shelveOps } from './actions/shelve.js';
import { deletedOps } from './actions/deleted.js';
import { networkOps } from './actions/network.js';
import { consolesOps } from './actions/consoles.js';
import { resizeOps } from './actions/resize.js';
import { liveMigrateOps } from './actions/live-migrate.js';
import { destroyEvacuatedInstances, evacuateOps } from './actions/evacuate.js';
import { eventFinish, eventStart } from '../compute/actions/record.js';
import { recoverHost } from './recovery.js';
import { MessagingTimeout } from '../bus/types.js';
import { CONDUCTOR_TOPIC, type BuildRequest } from '../compute/conductor.js';

export type { AgentDeps } from './context.js';


/**
 * One compute host's service (Nova's compute manager, split per action
 * group): it acts on its servers only through its virt driver and records
 * every outcome in the database, reverting task_state on failure.
 */
export class ComputeAgent {
  private readonly deps: AgentDeps;
  readonly ctx: AgentContext;
  /** Every operation this host serves on its bus topic, by method name. */
  private readonly ops: Record<string, AgentOp>;

  constructor(deps: AgentDeps) {
    this.deps = deps;
    this.ctx = new AgentContext(deps);
    this.ops = {
      build_and_run_instance: (_c, a) =>
        this.buildAndRun(String(a.uuid), (a.adminPass as string | null) ?? null, (a.requestId as string | null) ?? null, {
          retry: a.retry === true,
          alternates: Array.isArray(a.alternates) ? a.alternates.filter((x): x is string => typeof x === 'string') : [],
        }),
      terminate_instance: (_c, a) => this.terminate(String(a.uuid), (a.requestId as string | null) ?? null),
      soft_delete_instance: (_c, a) => this.softDelete(String(a.uuid)),
      destroy_orphan_guest: (_c, a) => this.destroyOrphanGuest(String(a.uuid)),
      ...pauseOps,
      ...powerOps,
      ...passwordOps,
      ...adminOps,
      ...rebuildOps,
      ...rescueOps,
      ...snapshotOps,
      ...shelveOps,
      ...deletedOps,
      ...networkOps,
      ...consolesOps,
      ...resizeOps,
      ...liveMigrateOps,
      ...evacuateOps,
    };
  }

  /** Messages cast to this host while it was down, delivered when it is back (a durable queue). */
  private held: { method: string; args: Record<string, unknown> }[] | null = null;

  /** Whether the host is down (hostDown). */
  get isDown(): boolean {
    return this.held !== null;
  }

  /**
   * The host fails (simulated hypervisors only): its guests are lost with
   * the machine, calls to it time out, casts wait for its return.
   */
  hostDown(): void {
    if (this.held) return;
    this.held = [];
    const d = this.deps.driver as { powerLoss?: () => void };
    d.powerLoss?.();
  }

  /**
   * The host and its compute service start again: restart recovery, then
   * the messages that waited, sent again on the bus. Served as the `host_up`
   * cast (ComputeServices.hostUp), so that it runs as bus work.
   */
  async hostUp(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = null;
    await this.init();
    for (const m of held) this.deps.bus.cast(`compute.${this.deps.host}`, m.method, m.args);
  }

  /** A call to this host: like handle, but a host that is down does not answer (MessagingTimeout). */
  handle = async (method: string, args: Record<string, unknown>, mode: 'call' | 'cast' = 'cast'): Promise<unknown> => {
    if (method === 'host_up') return this.hostUp();
    if (this.held) {
      if (mode === 'call') throw new MessagingTimeout(`compute.${this.deps.host}`, method);
      this.held.push({ method, args });
      return null;
    }
    const op = this.ops[method];
    if (!op) throw new Error(`compute ${this.deps.host}: unknown method ${method}`);
    return (await op(this.ctx, args)) ?? null;
  };

  private now(): string {
    return this.ctx.now();
  }

  private mine(uuid: string): Promise<Instance | undefined> {
    return this.ctx.mine(uuid);
  }

  async buildAndRun(uuid: string, adminPass: string | null, requestId: string | null, retry: { retry: boolean; alternates: string[] } = { retry: false, alternates: [] }): Promise<void> {
    const { db, network, driver } = this.deps;
    const inst = await this.mine(uuid);
    if (!inst || inst.vm_state !== VmState.BUILDING) return;
    if (!(await casUpdate(db, uuid, [TaskState.SCHEDULING], { task_state: TaskState.NETWORKING, updated_at: this.now() }))) return;
    const ev = requestId
      ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute__do_build_and_run_instance', host: this.deps.host }, this.now())
      : undefined;
    try {
      const requested = JSON.parse(inst.requested_networks) as NicRequest[];
      const ports = await network.allocate(uuid, inst.project_id, requested);
      if (!(await casUpdate(db, uuid, [TaskState.NETWORKING], { task_state: TaskState.SPAWNING, updated_at: this.now() }))) {
        await network.deallocate(uuid);
        return;
      }
      const f = flavorOf(inst);
      const spec: GuestSpec = {
        uuid,
        name: instanceName(inst),
        vcpus: f.vcpus,
        memoryMb: f.memory_mb,
        rootGb: f.root_gb,
        ephemeralGb: f.ephemeral_gb,
        swapMb: f.swap,
        imageRef: inst.image_ref,
        userData: inst.user_data,
        keyData: inst.key_data,
        adminPass,
        nics: ports.map((p) => ({ portId: p.id, mac: p.mac_address, ips: [p.fixed_ip_v4, p.fixed_ip_v6].filter((x): x is string => x !== null) })),
      };
      await driver.spawn(spec, async (percent) => {
        if (percent < 100) await casUpdate(db, uuid, [TaskState.SPAWNING], { progress: percent, updated_at: this.now() });
      });
      const now = this.now();
      const done = await casUpdate(db, uuid, [TaskState.SPAWNING], {
        vm_state: VmState.ACTIVE,
        task_state: null,
        power_state: PowerState.RUNNING,
        progress: 0,
        launched_at: now,
        updated_at: now,
      });
      if (!done) {
        // Deleted while spawning: the delete already ran here; remove what the spawn left.
        await driver.destroy(uuid);
        if (!(await findInstance(db, uuid, { projectId: null }))) await network.deallocate(uuid);
      }
      await eventFinish(db, ev, this.now());
    } catch (err) {
      if (retry.retry && (await this.reschedule(uuid, adminPass, requestId, retry.alternates, err))) {
        await eventFinish(db, ev, this.now(), err);
        return;
      }
      await this.failBuild(uuid, err);
      await eventFinish(db, ev, this.now(), err);
    }
  }

  /**
   * A build that failed here goes back to the conductor (Nova's
   * RescheduledException): what the spawn left is removed, the ports are
   * released, the server leaves this host in `scheduling`, and the
   * conductor tries the scheduler's next alternate (or gives up with
   * `Exceeded maximum number of retries`). False when the server changed
   * meanwhile (e.g. deleted).
   */
  private async reschedule(uuid: string, adminPass: string | null, requestId: string | null, alternates: string[], err: unknown): Promise<boolean> {
    const { db, network, driver, log, host } = this.deps;
    log.warn({ err, uuid, host, alternates }, 'build failed; rescheduling');
    await driver.destroy(uuid).catch(() => undefined);
    await network.deallocate(uuid);
    const back = await casUpdate(db, uuid, [TaskState.SCHEDULING, TaskState.NETWORKING, TaskState.SPAWNING], {
      task_state: TaskState.SCHEDULING,
      host: null,
      node: null,
      power_state: PowerState.NOSTATE,
      progress: 0,
      updated_at: this.now(),
    });
    if (!back) return false;
    const b: BuildRequest = { uuid, adminPass, reschedule: true, alternates, ...(requestId ? { requestId } : {}) };
    this.deps.bus.cast(CONDUCTOR_TOPIC, 'build_instances', { builds: [b] });
    return true;
  }

  private async failBuild(uuid: string, err: unknown): Promise<void> {
    const { db, network, driver, log } = this.deps;
    log.warn({ err, uuid, host: this.deps.host }, 'build failed');
    await driver.destroy(uuid).catch(() => undefined);
    await network.deallocate(uuid);
    const now = this.now();
    const updated = await casUpdate(db, uuid, [TaskState.SCHEDULING, TaskState.NETWORKING, TaskState.SPAWNING], {
      vm_state: VmState.ERROR,
      task_state: null,
      power_state: PowerState.NOSTATE,
      host: null,
      node: null,
      progress: 0,
      updated_at: now,
    });
    if (updated) {
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, {
        code: 500,
        message: message.slice(0, 255),
        details: err instanceof Error ? (err.stack ?? message) : message,
        created_at: now,
      });
    }
  }

  async terminate(uuid: string, requestId: string | null = null): Promise<void> {
    const { db, network, driver } = this.deps;
    const inst = await this.mine(uuid);
    if (!inst) return;
    const ev = requestId
      ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_terminate_instance', host: this.deps.host }, this.now())
      : undefined;
    await driver.destroy(uuid);
    await network.deallocate(uuid);
    await markDeleted(db, inst, this.now());
    await eventFinish(db, ev, this.now());
    // A failed move may have left a copy of the guest on another host (e.g. a source whose confirm failed): those hosts drop it.
    const others = await db
      .selectFrom('migrations')
      .select(['source_compute', 'dest_compute'])
      .where('instance_uuid', '=', uuid)
      .execute();
    const hosts = new Set(others.flatMap((m) => [m.source_compute, m.dest_compute]).filter((h): h is string => h !== null && h !== this.deps.host));
    for (const h of hosts) this.deps.bus.cast(`compute.${h}`, 'destroy_orphan_guest', { uuid });
  }

  /** Removes this host's guest of a server that is deleted or lives on another host. */
  private async destroyOrphanGuest(uuid: string): Promise<void> {
    const { db, driver, log, host } = this.deps;
    if (!(await driver.listGuests()).includes(uuid)) return;
    const inst = await findInstance(db, uuid, { projectId: null });
    if (inst && inst.host === host) return;
    log.info({ uuid }, 'removing the guest of a server that is not on this host');
    await driver.destroy(uuid).catch((err: unknown) => log.warn({ err, uuid }, 'removing an orphan guest failed'));
  }

  async softDelete(uuid: string): Promise<void> {
    const { db, driver, log } = this.deps;
    const inst = await this.mine(uuid);
    if (!inst) return;
    // The guest is powered off but kept so that it can be restored.
    if ((await driver.powerState(uuid)) !== PowerState.SHUTDOWN) {
      await driver.powerOff(uuid, 0).catch((err: unknown) => log.warn({ err, uuid }, 'power off for soft delete failed'));
    }
    await casUpdate(db, uuid, [TaskState.SOFT_DELETING], {
      vm_state: VmState.SOFT_DELETED,
      task_state: null,
      power_state: PowerState.SHUTDOWN,
      deleted_at: this.now(),
      updated_at: this.now(),
    });
  }

  /**
   * Runs at service start, as Nova's init_host does: every server of this
   * host that a crash left half-way through an action is resolved by the
   * rules in ./recovery.ts (finish, retry, revert or ERROR), so that none
   * keeps a task_state and none is lost.
   */
  async init(): Promise<void> {
    await this.deps.driver.init();
    await recoverHost({
      ctx: this.ctx,
      op: (method, args) => this.handle(method, args),
      terminate: (uuid) => this.terminate(uuid),
      softDelete: (uuid) => this.softDelete(uuid),
      failBuild: (uuid, err) => this.failBuild(uuid, err),
    });
    await destroyEvacuatedInstances(this.ctx);
    // A confirm the API accepted but this host never finished (it answered 204 already) runs now.
    const confirming = await this.deps.db
      .selectFrom('migrations')
      .select(['uuid', 'instance_uuid'])
      .where('source_compute', '=', this.deps.host)
      .where('status', '=', 'confirming')
      .execute();
    for (const m of confirming) await this.handle('confirm_resize', { uuid: m.instance_uuid, migrationUuid: m.uuid, requestId: null });
  }
}
