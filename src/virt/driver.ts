/**
 * The virt driver interface: everything a compute host does to a guest goes
 * through here. Kept small on purpose; every driver passes the same contract
 * suite (src/virt/driver.contract.ts).
 */
export interface GuestNic {
  portId: string;
  mac: string;
  ips: string[];
}

export interface GuestSpec {
  uuid: string;
  /** The hypervisor-side name, e.g. instance-0000002a. */
  name: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  ephemeralGb: number;
  swapMb: number;
  imageRef: string;
  userData: string | null;
  keyData: string | null;
  adminPass: string | null;
  nics: GuestNic[];
}

export interface HostResources {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuInfo: Record<string, unknown>;
}

export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}

export interface VirtDriver {
  /** Called once when the compute service starts. */
  init(): Promise<void>;
  /** What the host offers. */
  resources(): HostResources;
  /** UUIDs of the guests that exist on this host. */
  listGuests(): Promise<string[]>;
  /** Creates and boots a guest; reports progress (0..100) as it goes. Throws DriverError on failure. */
  spawn(spec: GuestSpec, onProgress: (percent: number) => Promise<void>): Promise<void>;
  /** Powers off and removes a guest; a guest that does not exist is not an error. */
  destroy(uuid: string): Promise<void>;
  /** Freezes a running guest in memory. */
  pause(uuid: string): Promise<void>;
  /** Thaws a paused guest. */
  unpause(uuid: string): Promise<void>;
  /** Current power state (see PowerState); NOSTATE when the guest does not exist. */
  powerState(uuid: string): Promise<number>;
  /** The guest's console log (what it printed), possibly empty. */
  consoleOutput(uuid: string): Promise<string>;
  /**
   * Simulated hypervisors only: re-creates a guest the database knows but the
   * simulation lost when the process restarted. Real drivers discover guests.
   */
  adopt?(uuid: string, powerState: number): Promise<void>;
}
