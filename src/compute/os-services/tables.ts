import type { Generated } from 'kysely';

/** A control-plane service (Nova's `services` row). Times as in InstanceRow. */
export interface ComputeServiceRow {
  id: Generated<number>;
  uuid: string;
  host: string;
  /** nova-compute, nova-conductor or nova-scheduler. */
  binary: string;
  /** The host's zone for nova-compute; `internal` for the others. */
  availability_zone: string;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  /** The last heartbeat (injected clock). */
  last_seen_up: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface ComputeServiceTables {
  compute_services: ComputeServiceRow;
}
