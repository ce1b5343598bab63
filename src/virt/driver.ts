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

export type ConsoleKind = 'novnc' | 'xvpvnc' | 'spice-html5' | 'spice-direct' | 'serial' | 'webmks';

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
  /** Shuts a guest down (graceful first when `timeoutS` > 0, then hard). */
  powerOff(uuid: string, timeoutS?: number): Promise<void>;
  /** Boots a stopped guest. */
  powerOn(uuid: string): Promise<void>;
  /** SOFT: asks the guest OS to reboot; HARD: power-cycles it (also from stopped, paused or suspended). */
  reboot(uuid: string, type: 'SOFT' | 'HARD'): Promise<void>;
  /** Writes guest memory to disk and stops it. */
  suspend(uuid: string): Promise<void>;
  /** Restores a suspended guest. */
  resume(uuid: string): Promise<void>;
  /** Boots the guest from a rescue image with its own disk attached. */
  rescue(uuid: string, rescueImageRef: string, adminPass: string | null): Promise<void>;
  /** Returns from rescue to the guest's own disk. */
  unrescue(uuid: string): Promise<void>;
  /** Copies the guest's root disk; returns the bytes for the image service. */
  snapshot(uuid: string): Promise<Buffer>;
  /** Sets the administrator password inside the guest. */
  setAdminPassword(uuid: string, password: string): Promise<void>;
  /** Injects an NMI so that the guest OS dumps its memory. */
  triggerCrashDump(uuid: string): Promise<void>;
  /** Pushes the current network configuration into the guest. */
  injectNetworkInfo(uuid: string, nics: GuestNic[]): Promise<void>;
  /** Where a graphical or serial console of the guest can be reached. */
  consoleEndpoint(uuid: string, kind: ConsoleKind): Promise<{ host: string; port: number; internalAccessPath: string | null }>;
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
