import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Selectable } from 'kysely';
import type { Config } from '../../config/index.js';
import type { Db } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { Mutex } from '../../lib/mutex.js';
import { isoMicro, parseStored } from '../../lib/time.js';
import type { ComputeServiceRow } from './tables.js';
import { hostZone, loadAggregateZones } from '../aggregates/repo.js';

export type ServiceRow = Selectable<ComputeServiceRow>;

export const COMPUTE_BINARY = 'nova-compute';
/** Nova's internal_service_availability_zone. */
export const INTERNAL_AZ = 'internal';
/** Nova's report_interval: how often (injected clock) a live service heartbeats. */
export const REPORT_INTERVAL_MS = 10_000;

interface ServiceDeps {
  db: Db;
  config: Config;
  clock: Clock;
}

/** The host name the conductor and the scheduler run on. */
export const controlHost = (): string => hostname();

/**
 * Registers the services of this process at start: one nova-compute row per
 * configured host (its zone refreshed: the one its aggregates name, else
 * the configured one), nova-conductor and nova-scheduler on
 * this machine. Existing rows keep their operator state (disabled,
 * forced_down); every service heartbeats now.
 */
export async function initServices(deps: ServiceDeps): Promise<void> {
  const { db, config, clock } = deps;
  const now = isoMicro(clock.now());
  // A host's zone is the one its aggregates name, else its configured one.
  await loadAggregateZones(db);
  const wanted = [
    ...config.compute.hosts.map((h) => ({ host: h.name, binary: COMPUTE_BINARY, zone: hostZone(deps, h.name) })),
    { host: controlHost(), binary: 'nova-conductor', zone: INTERNAL_AZ },
    { host: controlHost(), binary: 'nova-scheduler', zone: INTERNAL_AZ },
  ];
  for (const w of wanted) {
    const row = await db.selectFrom('compute_services').select('id').where('host', '=', w.host).where('binary', '=', w.binary).executeTakeFirst();
    if (row) {
      await db.updateTable('compute_services').set({ availability_zone: w.zone, last_seen_up: now, updated_at: now }).where('id', '=', row.id).execute();
    } else {
      await db
        .insertInto('compute_services')
        .values({ uuid: randomUUID(), host: w.host, binary: w.binary, availability_zone: w.zone, disabled: 0, disabled_reason: null, forced_down: 0, last_seen_up: now, created_at: now, updated_at: now })
        .execute();
    }
  }
}

/** A service time as the API shows it: whole seconds (the database keeps no fraction), `2026-11-22T14:50:46.000000`. */
export function serviceTime(t: string | null): string | null {
  return t === null ? null : `${t.slice(0, 19)}.000000`;
}

/** servicegroup's is_up: not forced down, and the last heartbeat within service_down_time of now. */
export function isUp(row: ServiceRow, nowMs: number, downTimeS: number): boolean {
  if (row.forced_down) return false;
  const last = parseStored(row.last_seen_up ?? row.created_at).getTime();
  return Math.abs(nowMs - last) <= downTimeS * 1000;
}

const heartbeats = new WeakMap<Db, ServiceHeartbeat>();

/**
 * The heartbeats of the services running in this process (Nova's
 * report_state every report_interval). A real-time ticker asks whether a
 * beat is due on the injected clock, so a fake clock gains no sleeper; and
 * every reader of service state first lets due beats happen, so a service
 * that is running is never seen down however far a test moves the clock.
 * A paused compute host stops beating, as a dead nova-compute would.
 */
export class ServiceHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly beating = new Mutex();
  private readonly paused = new Set<string>();
  private lastBeat: number;

  constructor(private readonly deps: ServiceDeps) {
    this.lastBeat = deps.clock.now();
    heartbeats.set(deps.db, this);
  }

  start(tickMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.beatIfDue().catch(() => undefined);
    }, tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (heartbeats.get(this.deps.db) === this) heartbeats.delete(this.deps.db);
  }

  /** Stops the heartbeat of a compute host (its service goes down after service_down_time). */
  pause(host: string): void {
    this.paused.add(host);
  }

  resume(host: string): void {
    this.paused.delete(host);
  }

  /** Every running service heartbeats now (injected clock). */
  async tick(): Promise<void> {
    await this.beating.run(async () => {
      const now = this.deps.clock.now();
      this.lastBeat = now;
      const at = isoMicro(now);
      let q = this.deps.db.updateTable('compute_services').set({ last_seen_up: at, updated_at: at });
      const paused = [...this.paused];
      if (paused.length > 0) q = q.where((eb) => eb.or([eb('binary', '!=', COMPUTE_BINARY), eb('host', 'not in', paused)]));
      await q.execute();
    });
  }

  async beatIfDue(): Promise<void> {
    if (this.deps.clock.now() - this.lastBeat >= REPORT_INTERVAL_MS) await this.tick();
  }
}

/** All services (after letting due heartbeats happen), by id. */
export async function listServices(db: Db): Promise<ServiceRow[]> {
  await heartbeats.get(db)?.beatIfDue();
  return db.selectFrom('compute_services').selectAll().orderBy('id').execute();
}

export interface ComputeServiceState {
  row: ServiceRow;
  up: boolean;
}

/** The nova-compute services by host, with whether each is up. */
export async function computeServiceStates(deps: ServiceDeps): Promise<Map<string, ComputeServiceState>> {
  const rows = await listServices(deps.db);
  const now = deps.clock.now();
  const out = new Map<string, ComputeServiceState>();
  for (const r of rows) {
    if (r.binary === COMPUTE_BINARY) out.set(r.host, { row: r, up: isUp(r, now, deps.config.compute.service_down_time) });
  }
  return out;
}

/** Compute hosts the scheduler must skip: no service, disabled, forced down or not heartbeating. */
export async function unschedulableHosts(deps: ServiceDeps): Promise<Set<string>> {
  const states = await computeServiceStates(deps);
  const out = new Set<string>();
  for (const h of deps.config.compute.hosts) {
    const s = states.get(h.name);
    if (!s || s.row.disabled || !s.up) out.add(h.name);
  }
  return out;
}

/** host_status of a server on `host` (Nova's get_instance_host_status). */
export function hostStatusFrom(states: ReadonlyMap<string, ComputeServiceState>, host: string | null): string {
  if (!host) return '';
  const s = states.get(host);
  if (!s) return '';
  if (s.row.forced_down) return 'DOWN';
  if (s.row.disabled) return 'MAINTENANCE';
  return s.up ? 'UP' : 'UNKNOWN';
}

/** host -> host_status for every compute service, for the servers' render variant. */
export async function hostStatuses(deps: ServiceDeps): Promise<Map<string, string>> {
  const states = await computeServiceStates(deps);
  return new Map([...states.keys()].map((h) => [h, hostStatusFrom(states, h)]));
}
