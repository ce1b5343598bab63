/**
 * Nova's server states as data: vm_state, task_state and power_state values,
 * the status each combination shows, and the reverse mapping used by the
 * `status` filter.
 */
export const VmState = {
  ACTIVE: 'active',
  BUILDING: 'building',
  PAUSED: 'paused',
  SUSPENDED: 'suspended',
  STOPPED: 'stopped',
  RESCUED: 'rescued',
  RESIZED: 'resized',
  SOFT_DELETED: 'soft-delete',
  DELETED: 'deleted',
  ERROR: 'error',
  SHELVED: 'shelved',
  SHELVED_OFFLOADED: 'shelved_offloaded',
} as const;
export type VmState = (typeof VmState)[keyof typeof VmState];

export const TaskState = {
  SCHEDULING: 'scheduling',
  BLOCK_DEVICE_MAPPING: 'block_device_mapping',
  NETWORKING: 'networking',
  SPAWNING: 'spawning',
  DELETING: 'deleting',
  SOFT_DELETING: 'soft-deleting',
  RESTORING: 'restoring',
} as const;

export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;

const REBOOT = ['rebooting', 'reboot_pending', 'reboot_started'];
const HARD_REBOOT = ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'];
const REBUILD = ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'];
const RESIZE = ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'];

const fromList = (tasks: string[], status: string): Record<string, string> =>
  Object.fromEntries(tasks.map((t) => [t, status]));

/** vm_state -> { default status, task_state -> overriding status }. */
export const STATE_MAP: Record<string, Record<string, string>> = {
  [VmState.ACTIVE]: {
    default: 'ACTIVE',
    ...fromList(REBOOT, 'REBOOT'),
    ...fromList(HARD_REBOOT, 'HARD_REBOOT'),
    updating_password: 'PASSWORD',
    ...fromList(REBUILD, 'REBUILD'),
    migrating: 'MIGRATING',
    ...fromList(RESIZE, 'RESIZE'),
  },
  [VmState.BUILDING]: { default: 'BUILD' },
  [VmState.STOPPED]: { default: 'SHUTOFF', ...fromList(RESIZE, 'RESIZE'), ...fromList(REBUILD, 'REBUILD') },
  [VmState.RESIZED]: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  [VmState.PAUSED]: { default: 'PAUSED', migrating: 'MIGRATING' },
  [VmState.SUSPENDED]: { default: 'SUSPENDED' },
  [VmState.RESCUED]: { default: 'RESCUE' },
  [VmState.ERROR]: { default: 'ERROR', ...fromList(REBUILD, 'REBUILD') },
  [VmState.DELETED]: { default: 'DELETED' },
  [VmState.SOFT_DELETED]: { default: 'SOFT_DELETED' },
  [VmState.SHELVED]: { default: 'SHELVED' },
  [VmState.SHELVED_OFFLOADED]: { default: 'SHELVED_OFFLOADED' },
};

/** The API status of a server. */
export function statusOf(vmState: string, taskState: string | null): string {
  const map = STATE_MAP[vmState];
  if (!map) return 'UNKNOWN';
  return (taskState !== null ? map[taskState] : undefined) ?? map.default ?? 'UNKNOWN';
}

/**
 * The vm_states and task_states that show any of `statuses` (case-insensitive).
 * `anyTask` is true when some vm_state shows the status by default, so no
 * task_state filter applies.
 */
export function statesForStatuses(statuses: string[]): { vmStates: string[]; taskStates: string[]; anyTask: boolean } {
  const wanted = new Set(statuses.map((s) => s.toLowerCase()));
  const vm = new Set<string>();
  const task = new Set<string>();
  let anyTask = false;
  for (const [vmState, map] of Object.entries(STATE_MAP)) {
    for (const [taskState, status] of Object.entries(map)) {
      if (!wanted.has(status.toLowerCase())) continue;
      vm.add(vmState);
      if (taskState === 'default') anyTask = true;
      else task.add(taskState);
    }
  }
  return { vmStates: [...vm].sort(), taskStates: [...task].sort(), anyTask };
}

/** Statuses whose body carries `progress`. */
export const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);
/** Statuses whose body carries `fault` (when one was recorded). */
export const FAULT_STATUSES = new Set(['ERROR', 'DELETED']);
