import { isoMicro } from '../lib/time.js';
import { Mutex } from '../lib/mutex.js';
import { computeTopic } from './conductor.js';
import type { ComputeDeps } from './deps.js';
import { casUpdate } from './servers/repo.js';
import { TaskState, VmState } from './states.js';
import { confirmOverdueResizes } from './migrations/auto-confirm.js';
import { computeServiceStates, REPORT_INTERVAL_MS } from './os-services/repo.js';

/** How often (real time) the ticker looks whether a task is due on the injected clock. */
const DEFAULT_TICK_MS = 1000;

interface Task {
  name: string;
  /** Spacing in ms of the injected clock; <= 0 disables the task. */
  spacingMs: number;
  run: () => Promise<number>;
  lastRun: number;
}

/**
 * Nova's compute periodic tasks that Stratus runs: reclaiming soft-deleted
 * servers (`_reclaim_queued_deletes`, every `reclaim_instance_interval`
 * seconds) and offloading shelved servers (`_poll_shelved_instances`, when
 * `shelved_offload_time` > 0).
 *
 * Spacing is measured on the injected clock. A real-time ticker only asks
 * "is anything due?", so a fake clock never gains a sleeper it would have
 * to wake (tests that settle the cloud are not pushed into the future); a
 * test advances `cloud.clock` and calls `tick()` (or `reclaimQueuedDeletes()`).
 */
export class PeriodicTasks {
  private readonly tasks: Task[];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Mutex();

  constructor(private readonly deps: ComputeDeps) {
    const now = deps.clock.now();
    const c = deps.config.compute;
    this.tasks = [
      { name: 'reclaim_queued_deletes', spacingMs: c.reclaim_instance_interval * 1000, run: () => this.reclaimQueuedDeletes(), lastRun: now },
      { name: 'poll_shelved_instances', spacingMs: c.shelved_offload_time > 0 ? 3600 * 1000 : 0, run: () => this.pollShelvedInstances(), lastRun: now },
      { name: 'cleanup_evacuated_instances', spacingMs: REPORT_INTERVAL_MS, run: () => this.cleanupEvacuated(), lastRun: now },
      { name: 'poll_unconfirmed_resizes', spacingMs: Math.min(c.resize_confirm_window, 60) * 1000, run: () => this.pollUnconfirmedResizes(), lastRun: now },
    ];
  }

  /** Starts the real-time ticker (unref'd, so it never keeps the process alive). No-op when no task is enabled. */
  start(tickMs = DEFAULT_TICK_MS): void {
    if (this.timer || !this.tasks.some((t) => t.spacingMs > 0)) return;
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.deps.log.warn({ err }, 'periodic task failed'));
    }, tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs every task whose spacing has passed on the injected clock; returns how many servers were acted on. */
  async tick(): Promise<number> {
    return this.running.run(async () => {
      let n = 0;
      for (const t of this.tasks) {
        if (t.spacingMs <= 0) continue;
        const now = this.deps.clock.now();
        if (now - t.lastRun < t.spacingMs) continue;
        t.lastRun = now;
        n += await t.run();
      }
      return n;
    });
  }

  /**
   * Asks each compute host that is up again and was the source of finished
   * evacuations to remove its copies (src/agent/actions/evacuate.ts): the
   * old host cleans up when it comes back, however it came back (restarted,
   * no longer forced down, heartbeating again). Returns how many hosts were asked.
   */
  async cleanupEvacuated(): Promise<number> {
    const { db, bus } = this.deps;
    const rows = await db.selectFrom('migrations').select('source_compute').distinct().where('migration_type', '=', 'evacuation').where('status', '=', 'done').execute();
    if (rows.length === 0) return 0;
    const states = await computeServiceStates(this.deps);
    const configured = new Set(this.deps.config.compute.hosts.map((h) => h.name));
    let n = 0;
    for (const r of rows) {
      if (!r.source_compute || !configured.has(r.source_compute) || !states.get(r.source_compute)?.up) continue;
      bus.cast(computeTopic(r.source_compute), 'destroy_evacuated_instances', {});
      n++;
    }
    return n;
  }

  /** Confirms resizes left in VERIFY_RESIZE longer than resize_confirm_window seconds (./migrations/auto-confirm.ts). */
  pollUnconfirmedResizes(): Promise<number> {
    return confirmOverdueResizes(this.deps);
  }

  /**
   * Really deletes servers soft-deleted longer ago than
   * reclaim_instance_interval (or without deleted_at), one cast to each
   * server's host. Returns how many were sent for deletion.
   */
  async reclaimQueuedDeletes(): Promise<number> {
    const { db, config, clock, bus, log } = this.deps;
    const interval = config.compute.reclaim_instance_interval;
    if (interval <= 0) return 0;
    const hosts = new Set(config.compute.hosts.map((h) => h.name));
    const cutoff = isoMicro(clock.now() - interval * 1000);
    const rows = await db
      .selectFrom('instances')
      .select(['uuid', 'host', 'deleted_at'])
      .where('deleted', '=', 0)
      .where('vm_state', '=', VmState.SOFT_DELETED)
      .where('task_state', 'is', null)
      .execute();
    let n = 0;
    for (const r of rows) {
      if (!r.host || !hosts.has(r.host)) continue;
      if (r.deleted_at !== null && r.deleted_at > cutoff) continue;
      // Claim the server first, so that a restore racing with the reclaim gets a 409.
      const claimed = await casUpdate(db, r.uuid, [null], { task_state: TaskState.DELETING, progress: 0, updated_at: isoMicro(clock.now()) });
      if (!claimed) continue;
      log.info({ uuid: r.uuid, host: r.host }, 'reclaiming deleted instance');
      bus.cast(computeTopic(r.host), 'terminate_instance', { uuid: r.uuid, requestId: null });
      n++;
    }
    return n;
  }

  /**
   * Offloads servers shelved longer ago than shelved_offload_time seconds
   * (when it is > 0). When a server was shelved is the last update of its
   * latest `shelve` instance action.
   */
  async pollShelvedInstances(): Promise<number> {
    const { db, config, clock, bus } = this.deps;
    const wait = config.compute.shelved_offload_time;
    if (wait <= 0) return 0;
    const cutoff = isoMicro(clock.now() - wait * 1000);
    const rows = await db
      .selectFrom('instances')
      .select(['uuid', 'host'])
      .where('deleted', '=', 0)
      .where('vm_state', '=', VmState.SHELVED)
      .where('task_state', 'is', null)
      .where('host', 'is not', null)
      .execute();
    let n = 0;
    for (const r of rows) {
      const action = await db
        .selectFrom('instance_actions')
        .select('updated_at')
        .where('instance_uuid', '=', r.uuid)
        .where('action', '=', 'shelve')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (!action || action.updated_at > cutoff || !r.host) continue;
      const claimed = await casUpdate(db, r.uuid, [null], { task_state: 'shelving_offloading', updated_at: isoMicro(clock.now()) });
      if (!claimed) continue;
      bus.cast(computeTopic(r.host), 'shelve_offload_instance', { uuid: r.uuid, requestId: null });
      n++;
    }
    return n;
  }
}
