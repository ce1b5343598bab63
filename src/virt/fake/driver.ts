import type { Clock } from '../../lib/clock.js';
import { PowerState } from '../../compute/states.js';
import { DriverError, type GuestSpec, type HostResources, type VirtDriver } from '../driver.js';

export interface FakeDriverOptions {
  clock: Clock;
  /** Time each simulated step takes (ms); 0 = instant. A spawn takes four steps. */
  stepMs: number;
  resources: HostResources;
}

interface Guest {
  spec: GuestSpec;
  power: number;
  console: string[];
}

export type FakeOperation = 'spawn' | 'destroy' | 'pause' | 'unpause';

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
  constructor(private readonly opts: FakeDriverOptions) {}

  init(): Promise<void> {
    return Promise.resolve();
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

  /** Drops every pending injected failure. */
  clearFailures(): void {
    this.injections.length = 0;
  }

  private maybeFail(op: FakeOperation, uuid: string): void {
    const inj = this.injections.find((i) => i.op === op && (i.uuid === null || i.uuid === uuid) && i.remaining > 0);
    if (!inj) return;
    inj.remaining -= 1;
    if (inj.remaining <= 0) this.injections.splice(this.injections.indexOf(inj), 1);
    throw new DriverError(inj.message);
  }

  async spawn(spec: GuestSpec, onProgress: (percent: number) => Promise<void>): Promise<void> {
    const guest: Guest = { spec, power: PowerState.NOSTATE, console: [] };
    for (let step = 1; step <= SPAWN_STEPS; step++) {
      await this.opts.clock.sleep(this.opts.stepMs);
      if (step === 2) this.maybeFail('spawn', spec.uuid);
      await onProgress(Math.floor((step * 100) / SPAWN_STEPS));
    }
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
    this.guests.set(uuid, { spec, power: powerState, console: [] });
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

  async pause(uuid: string): Promise<void> {
    const g = await this.step('pause', uuid);
    if (g.power !== PowerState.RUNNING) throw new DriverError(`Cannot pause a guest that is not running (power state ${g.power}).`);
    g.power = PowerState.PAUSED;
  }

  async unpause(uuid: string): Promise<void> {
    const g = await this.step('unpause', uuid);
    if (g.power !== PowerState.PAUSED) throw new DriverError(`Cannot unpause a guest that is not paused (power state ${g.power}).`);
    g.power = PowerState.RUNNING;
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
