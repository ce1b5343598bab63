import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { isoMicro } from '../lib/time.js';
import type { NetworkModel } from '../network/model.js';
import type { VirtDriver } from '../virt/driver.js';
import type { ImageService } from '../image/index.js';
import type { Bus } from '../bus/types.js';

/** What a compute host does with the image service: upload snapshots, delete them, read them. */
export type HostImages = Pick<ImageService, 'uploadImage' | 'setStatus' | 'delete' | 'getImage'>;
import { eventFinish, eventStart } from '../compute/actions/record.js';
import { casUpdate, findInstance, recordFault, type Instance, type InstanceUpdate } from '../compute/servers/repo.js';
import { VmState } from '../compute/states.js';

export interface AgentDeps {
  host: string;
  db: Db;
  clock: Clock;
  log: Logger;
  network: NetworkModel;
  driver: VirtDriver;
  /** Where snapshots, backups and shelve images go. */
  imageService: HostImages;
  /** To reach the other hosts (a live migration's source talks to its destination). */
  bus: Bus;
}

/** What every compute-side operation receives. */
export class AgentContext {
  constructor(readonly deps: AgentDeps) {}

  now(): string {
    return isoMicro(this.deps.clock.now());
  }

  /** The server if it is live and on this host. */
  async mine(uuid: string): Promise<Instance | undefined> {
    const inst = await findInstance(this.deps.db, uuid, { projectId: null });
    return inst && inst.host === this.deps.host ? inst : undefined;
  }

  /**
   * Runs one compute-side step the way Nova's manager does with its
   * decorators, written out: an instance-action event around the work; on
   * success the result is saved with task_state cleared, compare-and-swap on
   * the task_state the API set; on failure the task_state is reverted (or
   * the server set to ERROR when `onError` says so), a fault is recorded
   * and the event closes with the error.
   */
  async run(op: {
    uuid: string;
    requestId: string | undefined;
    event: string;
    /** task_state(s) the API set before casting. */
    expected: readonly (string | null)[];
    work: (inst: Instance) => Promise<InstanceUpdate>;
    onError?: 'revert' | 'error';
  }): Promise<void> {
    const { db, log, host } = this.deps;
    const inst = await this.mine(op.uuid);
    if (!inst) return;
    const ev = op.requestId ? await eventStart(db, { instanceUuid: op.uuid, requestId: op.requestId, event: op.event, host }, this.now()) : undefined;
    try {
      const values = await op.work(inst);
      const done = await casUpdate(db, op.uuid, op.expected, { ...values, task_state: values.task_state ?? null, updated_at: this.now() });
      if (!done) log.info({ uuid: op.uuid, event: op.event }, 'server changed while the operation ran; result not saved');
      await eventFinish(db, ev, this.now());
    } catch (err) {
      log.warn({ err, uuid: op.uuid, event: op.event, host }, 'operation failed');
      const now = this.now();
      await recordFault(db, op.uuid, {
        code: 500,
        message: (err instanceof Error ? err.message : String(err)).slice(0, 255),
        details: err instanceof Error ? (err.stack ?? err.message) : String(err),
        created_at: now,
      });
      await casUpdate(db, op.uuid, 'any', {
        task_state: null,
        updated_at: now,
        ...(op.onError === 'error' ? { vm_state: VmState.ERROR } : {}),
      });
      await eventFinish(db, ev, now, err);
    }
  }
}

/** A compute-side operation, served on the host's bus topic under its method name. */
export type AgentOp = (ctx: AgentContext, args: Record<string, unknown>) => Promise<unknown>;
