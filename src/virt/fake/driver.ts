import { randomUUID } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { PowerState } from '../../compute/states.js';
import { compareCpu, type CpuInfo } from '../cpu.js';
import {
  DriverError,
  LiveMigrationAborted,
  type ConsoleKind,
  type GuestNic,
  type GuestSpec,
  type HostResources,
  type LiveMigrationOptions,
  type VirtDriver,
} from '../driver.js';

/**
 * A simulated instance-storage volume: hosts given the same FakeStorage
 * share it (an NFS or Ceph instances path), so a marker one writes the
 * other sees.
 */
export class FakeStorage {
  readonly files = new Set<string>();
}

export interface FakeDriverOptions {
  clock: Clock;
  /** Time each simulated step takes (ms); 0 = instant. A spawn takes four steps. */
  stepMs: number;
  resources: HostResources;
  /** The instance storage; shared with the other hosts of its shared-storage group. Default: a private one. */
  storage?: FakeStorage;
  /** The other simulated hypervisors by host name (a live migration needs its destination reachable). */
  peers?: ReadonlyMap<string, FakeDriver>;
}

interface Guest {
  spec: GuestSpec;
  power: number;
  console: string[];
  rescued: boolean;
  /** An incoming live migration's domain, not yet switched over. */
  incoming?: boolean;
}

interface Outgoing {
  abort: boolean;
  forceComplete: boolean;
}

export type FakeOperation =
  | 'spawn'
  | 'destroy'
  | 'pause'
  | 'unpause'
  | 'powerOff'
  | 'powerOn'
  | 'reboot'
  | 'suspend'
  | 'resume'
  | 'rescue'
  | 'unrescue'
  | 'snapshot'
  | 'setAdminPassword'
  | 'triggerCrashDump'
  | 'injectNetworkInfo'
  | 'consoleEndpoint'
  | 'migrateDiskAndPowerOff'
  | 'finishRevertMigration'
  | 'checkLiveMigrationDestination'
  | 'preLiveMigration'
  | 'liveMigrate'
  | 'postLiveMigrationAtDestination';

export const FAKE_OPERATIONS: readonly FakeOperation[] = [
  'spawn', 'destroy', 'pause', 'unpause', 'powerOff', 'powerOn', 'reboot', 'suspend', 'resume', 'rescue', 'unrescue',
  'snapshot', 'setAdminPassword', 'triggerCrashDump', 'injectNetworkInfo', 'consoleEndpoint',
  'migrateDiskAndPowerOff', 'finishRevertMigration', 'checkLiveMigrationDestination', 'preLiveMigration', 'liveMigrate', 'postLiveMigrationAtDestination',
];

/** Transfer rounds of a live migration; memory is copied evenly over them (disks too for a block migration). */
export const LIVE_MIGRATION_ROUNDS = 5;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Injection {
  op: FakeOperation;
  uuid: string | null;
  remaining: number;
  message: string;
}

const SPAWN_STEPS = 4;

/**
 * A simulated hypervisor: guests are records in memory, each operation takes
 * configurable time on the injected clock, and failures can be injected
 * (`failNext`) so that error paths are exercised as a real host would.
 */
export class FakeDriver implements VirtDriver {
  private readonly guests = new Map<string, Guest>();
  private readonly injections: Injection[] = [];
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly storage: FakeStorage;
  private powered = true;
  constructor(private readonly opts: FakeDriverOptions) {
    this.storage = opts.storage ?? new FakeStorage();
  }

  init(): Promise<void> {
    this.powered = true;
    return Promise.resolve();
  }

  /** Whether the simulated machine is running (see powerLoss). */
  get isPowered(): boolean {
    return this.powered;
  }

  /**
   * Simulates the host losing power: every guest is gone, running
   * operations fail, and nothing works until init() runs again (the host
   * and its compute service coming back).
   */
  powerLoss(): void {
    this.powered = false;
    this.guests.clear();
    for (const m of this.outgoing.values()) m.abort = true;
  }

  private assertPowered(): void {
    if (!this.powered) throw new DriverError('Connection to the hypervisor is broken on host');
  }

  resources(): HostResources {
    return this.opts.resources;
  }

  listGuests(): Promise<string[]> {
    return Promise.resolve([...this.guests.keys()]);
  }

  /** Makes the next `count` calls of `op` (for one guest, or any) fail with `message`. */
  failNext(op: FakeOperation, opts: { uuid?: string; count?: number; message?: string } = {}): void {
    this.injections.push({
      op,
      uuid: opts.uuid ?? null,
      remaining: opts.count ?? 1,
      message: opts.message ?? `Injected failure of ${op}`,
    });
  }

  /** The injected failures still pending. */
  pendingFailures(): readonly { op: FakeOperation; uuid: string | null; remaining: number; message: string }[] {
    return this.injections.map((i) => ({ ...i }));
  }

  /** Drops every pending injected failure. */
  clearFailures(): void {
    this.injections.length = 0;
  }

  private maybeFail(op: FakeOperation, uuid: string): void {
    this.assertPowered();
    const inj = this.injections.find((i) => i.op === op && (i.uuid === null || i.uuid === uuid) && i.remaining > 0);
    if (!inj) return;
    inj.remaining -= 1;
    if (inj.remaining <= 0) this.injections.splice(this.injections.indexOf(inj), 1);
    throw new DriverError(inj.message);
  }

  async spawn(spec: GuestSpec, onProgress: (percent: number) => Promise<void>): Promise<void> {
    const guest: Guest = { spec, power: PowerState.NOSTATE, console: [], rescued: false };
    for (let step = 1; step <= SPAWN_STEPS; step++) {
      await this.opts.clock.sleep(this.opts.stepMs);
      if (step === 2) this.maybeFail('spawn', spec.uuid);
      await onProgress(Math.floor((step * 100) / SPAWN_STEPS));
    }
    this.assertPowered();
    guest.power = PowerState.RUNNING;
    guest.console.push(
      `[    0.000000] Linux version 6.1.0-fake (stratus fake hypervisor)`,
      `[    0.412000] virtio_net: ${spec.nics.map((n) => n.mac).join(' ')}`,
      `${spec.name} login: `,
    );
    this.guests.set(spec.uuid, guest);
  }

  async destroy(uuid: string): Promise<void> {
    this.maybeFail('destroy', uuid);
    await this.opts.clock.sleep(this.opts.stepMs);
    this.guests.delete(uuid);
  }

  adopt(uuid: string, powerState: number): Promise<void> {
    const spec: GuestSpec = {
      uuid, name: uuid, vcpus: 0, memoryMb: 0, rootGb: 0, ephemeralGb: 0, swapMb: 0,
      imageRef: '', userData: null, keyData: null, adminPass: null, nics: [],
    };
    this.guests.set(uuid, { spec, power: powerState, console: [], rescued: false });
    return Promise.resolve();
  }

  /** One simulated step: takes stepMs, may fail by injection, needs the guest. */
  private async step(op: FakeOperation, uuid: string): Promise<Guest> {
    await this.opts.clock.sleep(this.opts.stepMs);
    this.maybeFail(op, uuid);
    const g = this.guests.get(uuid);
    if (!g) throw new DriverError(`Instance ${uuid} could not be found.`);
    return g;
  }

  private static expect(g: Guest, op: string, allowed: number[]): void {
    if (!allowed.includes(g.power)) throw new DriverError(`Cannot ${op} a guest in power state ${g.power}.`);
  }

  private log(g: Guest, line: string): void {
    g.console.push(`[${(this.opts.clock.now() / 1000).toFixed(6).padStart(14)}] ${line}`);
    if (g.console.length > 1000) g.console.splice(0, g.console.length - 1000);
  }

  async pause(uuid: string): Promise<void> {
    const g = await this.step('pause', uuid);
    FakeDriver.expect(g, 'pause', [PowerState.RUNNING]);
    g.power = PowerState.PAUSED;
  }

  async unpause(uuid: string): Promise<void> {
    const g = await this.step('unpause', uuid);
    FakeDriver.expect(g, 'unpause', [PowerState.PAUSED]);
    g.power = PowerState.RUNNING;
  }

  async powerOff(uuid: string, _timeoutS = 0): Promise<void> {
    const g = await this.step('powerOff', uuid);
    this.log(g, 'reboot: Power down');
    g.power = PowerState.SHUTDOWN;
  }

  async powerOn(uuid: string): Promise<void> {
    const g = await this.step('powerOn', uuid);
    FakeDriver.expect(g, 'power on', [PowerState.SHUTDOWN, PowerState.CRASHED, PowerState.NOSTATE]);
    this.log(g, 'Linux version 6.1.0-fake (stratus fake hypervisor)');
    g.power = PowerState.RUNNING;
  }

  async reboot(uuid: string, type: 'SOFT' | 'HARD'): Promise<void> {
    const g = await this.step('reboot', uuid);
    if (type === 'SOFT') FakeDriver.expect(g, 'soft reboot', [PowerState.RUNNING]);
    this.log(g, type === 'SOFT' ? 'reboot: Restarting system' : 'Linux version 6.1.0-fake (stratus fake hypervisor)');
    g.power = PowerState.RUNNING;
  }

  async suspend(uuid: string): Promise<void> {
    const g = await this.step('suspend', uuid);
    FakeDriver.expect(g, 'suspend', [PowerState.RUNNING, PowerState.PAUSED]);
    g.power = PowerState.SUSPENDED;
  }

  async resume(uuid: string): Promise<void> {
    const g = await this.step('resume', uuid);
    FakeDriver.expect(g, 'resume', [PowerState.SUSPENDED]);
    g.power = PowerState.RUNNING;
  }

  async rescue(uuid: string, rescueImageRef: string, _adminPass: string | null): Promise<void> {
    const g = await this.step('rescue', uuid);
    this.log(g, `Booting rescue image ${rescueImageRef}`);
    g.rescued = true;
    g.power = PowerState.RUNNING;
  }

  async unrescue(uuid: string): Promise<void> {
    const g = await this.step('unrescue', uuid);
    if (!g.rescued) throw new DriverError('The guest is not in rescue mode.');
    g.rescued = false;
    g.power = PowerState.RUNNING;
  }

  async snapshot(uuid: string): Promise<Buffer> {
    const g = await this.step('snapshot', uuid);
    return Buffer.from(`stratus fake disk of ${g.spec.uuid} (image ${g.spec.imageRef})\n`);
  }

  async setAdminPassword(uuid: string, _password: string): Promise<void> {
    const g = await this.step('setAdminPassword', uuid);
    FakeDriver.expect(g, 'set the password of', [PowerState.RUNNING]);
  }

  async triggerCrashDump(uuid: string): Promise<void> {
    const g = await this.step('triggerCrashDump', uuid);
    this.log(g, 'Kernel panic - not syncing: NMI received; dumping memory');
  }

  async injectNetworkInfo(uuid: string, nics: GuestNic[]): Promise<void> {
    const g = await this.step('injectNetworkInfo', uuid);
    g.spec = { ...g.spec, nics };
  }

  async consoleEndpoint(uuid: string, _kind: ConsoleKind): Promise<{ host: string; port: number; internalAccessPath: string | null }> {
    await this.step('consoleEndpoint', uuid);
    const n = [...uuid].reduce((acc, c) => (acc * 31 + c.charCodeAt(0)) % 1000, 0);
    return { host: '127.0.0.1', port: 5900 + n, internalAccessPath: null };
  }

  async migrateDiskAndPowerOff(uuid: string): Promise<void> {
    const g = await this.step('migrateDiskAndPowerOff', uuid);
    if (g.power !== PowerState.SHUTDOWN) this.log(g, 'reboot: Power down');
    g.power = PowerState.SHUTDOWN;
  }

  async finishRevertMigration(spec: GuestSpec, powerOn: boolean): Promise<void> {
    await this.opts.clock.sleep(this.opts.stepMs);
    this.maybeFail('finishRevertMigration', spec.uuid);
    const g = this.guests.get(spec.uuid) ?? { spec, power: PowerState.SHUTDOWN, console: [], rescued: false };
    g.spec = spec;
    g.power = powerOn ? PowerState.RUNNING : PowerState.SHUTDOWN;
    this.guests.set(spec.uuid, g);
  }

  async checkLiveMigrationDestination(uuid: string, sourceCpu: Record<string, unknown>): Promise<{ cpuCompare: number; storageMarker: string }> {
    await this.opts.clock.sleep(this.opts.stepMs);
    this.maybeFail('checkLiveMigrationDestination', uuid);
    const marker = `tmp-${randomUUID()}`;
    this.storage.files.add(marker);
    return { cpuCompare: compareCpu(this.opts.resources.cpuInfo as Partial<CpuInfo>, sourceCpu as Partial<CpuInfo>), storageMarker: marker };
  }

  hasStorageMarker(marker: string): Promise<boolean> {
    return Promise.resolve(this.storage.files.has(marker));
  }

  removeStorageMarker(marker: string): Promise<void> {
    this.storage.files.delete(marker);
    return Promise.resolve();
  }

  async preLiveMigration(spec: GuestSpec): Promise<void> {
    await this.opts.clock.sleep(this.opts.stepMs);
    this.maybeFail('preLiveMigration', spec.uuid);
    this.guests.set(spec.uuid, { spec, power: PowerState.PAUSED, console: [], rescued: false, incoming: true });
  }

  async liveMigrate(uuid: string, dest: string, opts: LiveMigrationOptions): Promise<void> {
    const g = this.guests.get(uuid);
    if (!g) throw new DriverError(`Instance ${uuid} could not be found.`);
    const state: Outgoing = { abort: false, forceComplete: false };
    this.outgoing.set(uuid, state);
    try {
      const memoryTotal = g.spec.memoryMb * MiB;
      const diskTotal = opts.block ? (g.spec.rootGb + g.spec.ephemeralGb) * GiB : 0;
      for (let round = 1; round <= LIVE_MIGRATION_ROUNDS; round++) {
        await this.opts.clock.sleep(this.opts.stepMs);
        this.assertPowered();
        const peer = this.opts.peers?.get(dest);
        if (peer && !peer.isPowered) throw new DriverError(`Live migration failed: unable to connect to the destination ${dest}.`);
        if (state.abort) throw new LiveMigrationAborted(uuid);
        if (round === 2) this.maybeFail('liveMigrate', uuid);
        const done = state.forceComplete ? LIVE_MIGRATION_ROUNDS : round;
        const memoryProcessed = Math.floor((memoryTotal * done) / LIVE_MIGRATION_ROUNDS);
        const diskProcessed = Math.floor((diskTotal * done) / LIVE_MIGRATION_ROUNDS);
        await opts.onProgress({
          memoryTotal,
          memoryProcessed,
          memoryRemaining: memoryTotal - memoryProcessed,
          diskTotal,
          diskProcessed,
          diskRemaining: diskTotal - diskProcessed,
        });
        if (state.forceComplete) break;
      }
      if (state.abort) throw new LiveMigrationAborted(uuid);
      this.log(g, `Migrated to ${dest}`);
      this.guests.delete(uuid);
    } finally {
      this.outgoing.delete(uuid);
    }
  }

  liveMigrationForceComplete(uuid: string): Promise<void> {
    const m = this.outgoing.get(uuid);
    if (!m) return Promise.reject(new DriverError(`No live migration of ${uuid} is running.`));
    m.forceComplete = true;
    return Promise.resolve();
  }

  liveMigrationAbort(uuid: string): Promise<void> {
    const m = this.outgoing.get(uuid);
    if (!m) return Promise.reject(new DriverError(`No live migration of ${uuid} is running.`));
    m.abort = true;
    return Promise.resolve();
  }

  async postLiveMigrationAtDestination(uuid: string, powerState: number): Promise<void> {
    await this.opts.clock.sleep(this.opts.stepMs);
    this.maybeFail('postLiveMigrationAtDestination', uuid);
    const g = this.guests.get(uuid);
    if (!g?.incoming) throw new DriverError(`No incoming migration of ${uuid} on this host.`);
    g.incoming = false;
    g.power = powerState;
    this.log(g, 'Resumed after live migration');
  }

  /** Simulates the guest crashing or powering itself off (for power-state sync tests). */
  setPowerState(uuid: string, power: number): void {
    const g = this.guests.get(uuid);
    if (g) g.power = power;
  }

  powerState(uuid: string): Promise<number> {
    return Promise.resolve(this.guests.get(uuid)?.power ?? PowerState.NOSTATE);
  }

  consoleOutput(uuid: string): Promise<string> {
    const g = this.guests.get(uuid);
    if (!g) return Promise.reject(new DriverError(`Instance ${uuid} could not be found.`));
    return Promise.resolve(g.console.join('\n') + '\n');
  }
}
