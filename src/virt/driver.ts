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

/** How far a live migration has got, in bytes (Nova's migration memory_* and disk_* columns). */
export interface LiveMigrationProgress {
  memoryTotal: number;
  memoryProcessed: number;
  memoryRemaining: number;
  diskTotal: number;
  diskProcessed: number;
  diskRemaining: number;
}

export interface LiveMigrationOptions {
  /** Copy the local disks too (block migration); otherwise the hosts share instance storage. */
  block: boolean;
  /** Called after each transfer round. */
  onProgress: (p: LiveMigrationProgress) => Promise<void>;
}

/** Thrown by liveMigrate when the migration was aborted (liveMigrationAbort). */
export class LiveMigrationAborted extends Error {
  constructor(uuid: string) {
    super(`Live migration of ${uuid} was aborted.`);
    this.name = 'LiveMigrationAborted';
  }
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
   * Source of a resize or cold migration: powers the guest off and copies
   * its disks to the destination; the guest stays here, shut off, until
   * the move is confirmed (destroy) or reverted (finishRevertMigration).
   */
  migrateDiskAndPowerOff(uuid: string): Promise<void>;
  /**
   * Source of a reverted resize: the guest kept here comes back (re-created
   * from `spec`, the old flavor, if it is gone), running when `powerOn`.
   */
  finishRevertMigration(spec: GuestSpec, powerOn: boolean): Promise<void>;
  /**
   * Destination pre-check of a live migration: how this host's CPU compares
   * with the source's (0 incompatible, 1 identical, 2 superset, as libvirt's
   * CPU comparison), and a marker file written to this host's instance
   * storage, which the source looks for to tell whether they share storage.
   */
  checkLiveMigrationDestination(uuid: string, sourceCpu: Record<string, unknown>): Promise<{ cpuCompare: number; storageMarker: string }>;
  /** Source pre-check: whether this host sees a destination's storage marker (shared instance storage). */
  hasStorageMarker(marker: string): Promise<boolean>;
  /** Destination: removes the marker written by checkLiveMigrationDestination. */
  removeStorageMarker(marker: string): Promise<void>;
  /** Destination: prepares to receive a guest (an incoming, paused domain). */
  preLiveMigration(spec: GuestSpec): Promise<void>;
  /**
   * Source: copies the running guest's memory (and disks for a block
   * migration) to `dest`, reporting progress each round; the guest keeps
   * running here until the switch-over, after which it is gone from this
   * host. Throws LiveMigrationAborted when aborted, DriverError on failure
   * (the guest then keeps running here).
   */
  liveMigrate(uuid: string, dest: string, opts: LiveMigrationOptions): Promise<void>;
  /** Source: makes a running live migration converge at once (pauses the guest for the last copy). */
  liveMigrationForceComplete(uuid: string): Promise<void>;
  /** Source: cancels a running live migration; liveMigrate then throws LiveMigrationAborted. */
  liveMigrationAbort(uuid: string): Promise<void>;
  /** Destination: the migrated guest takes over here, running or paused as it was. */
  postLiveMigrationAtDestination(uuid: string, powerState: number): Promise<void>;
  /**
   * Simulated hypervisors only: re-creates a guest the database knows but the
   * simulation lost when the process restarted. Real drivers discover guests.
   */
  adopt?(uuid: string, powerState: number): Promise<void>;
}
