import type { Generated } from 'kysely';

/** A server. Times are ISO-8601 strings in UTC with microseconds (`2026-11-22T14:50:46.948446`). */
export interface InstanceRow {
  id: Generated<number>;
  uuid: string;
  project_id: string;
  user_id: string;
  display_name: string;
  display_description: string | null;
  hostname: string;
  image_ref: string;
  /** Snapshot of the flavor at boot (JSON of FlavorSnapshot). */
  flavor: string;
  /** The flavor's API id, for the `flavor` filter. */
  flavor_id: string;
  /** Resources the server holds, copied from the flavor for cheap accounting. */
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  /** The zone the user asked for (pinned), or null. */
  requested_az: string | null;
  launched_at: string | null;
  terminated_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** 0 = live; the instance's own id once deleted (Nova's soft-delete convention). */
  deleted: number;
  /** Bumped by every write that changes what the server's body shows (see repo.ts). */
  rev: Generated<number>;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  config_drive: string;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  disk_config: string;
  progress: number;
  reservation_id: string;
  launch_index: number;
  root_device_name: string | null;
  kernel_id: string;
  ramdisk_id: string;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  /** JSON list of security group names. */
  security_groups: string;
  /** JSON object of scheduler hints as given. */
  scheduler_hints: string;
  /** JSON list of block device mappings as validated. */
  block_device_mapping: string;
  /** JSON of the requested networks ("auto", "none" or a list). */
  requested_networks: string;
}

export interface InstanceMetadataRow {
  instance_uuid: string;
  key: string;
  value: string;
}

export interface InstanceTagRow {
  instance_uuid: string;
  tag: string;
}

export interface InstanceFaultRow {
  id: Generated<number>;
  instance_uuid: string;
  code: number;
  message: string;
  details: string;
  created_at: string;
}

/** A network of the built-in network model. */
export interface NetworkRow {
  id: string;
  name: string;
  project_id: string | null;
  shared: number;
  cidr: string;
  cidr_v6: string | null;
  created_at: string;
}

/** A port: one server interface with its fixed addresses. */
export interface PortRow {
  id: string;
  network_id: string;
  project_id: string;
  instance_uuid: string | null;
  mac_address: string;
  fixed_ip_v4: string | null;
  fixed_ip_v6: string | null;
  tag: string | null;
  created_at: string;
}

export interface SecurityGroupRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: string;
}

export interface InstanceTables {
  instances: InstanceRow;
  instance_metadata: InstanceMetadataRow;
  instance_tags: InstanceTagRow;
  instance_faults: InstanceFaultRow;
  networks: NetworkRow;
  ports: PortRow;
  security_groups: SecurityGroupRow;
}

/** One user request against a server (os-instance-actions), keyed by the request id the client saw. */
export interface InstanceActionRow {
  id: Generated<number>;
  action: string;
  instance_uuid: string;
  request_id: string;
  user_id: string;
  project_id: string;
  start_time: string;
  finish_time: string | null;
  /** 'Error' once any event of the action failed. */
  message: string | null;
  updated_at: string;
}

/** A step of an action as a compute host or the conductor ran it. */
export interface InstanceActionEventRow {
  id: Generated<number>;
  action_id: number;
  event: string;
  start_time: string;
  finish_time: string | null;
  /** 'Success' | 'Error' | null while running. */
  result: string | null;
  traceback: string | null;
  host: string | null;
  details: string | null;
}

export interface InstanceActionTables {
  instance_actions: InstanceActionRow;
  instance_actions_events: InstanceActionEventRow;
}

/* ---- Migration 0006: console tokens, floating IPs, extra fixed IPs ---- */

/** A console authorisation (Nova's console_auth_tokens): only the token's SHA-256 is stored. */
export interface ConsoleAuthTokenRow {
  id: Generated<number>;
  token_hash: string;
  /** novnc, spice-html5, spice-direct, serial, webmks. */
  console_type: string;
  host: string;
  port: number;
  tls_port: number | null;
  internal_access_path: string | null;
  instance_uuid: string;
  access_url_base: string | null;
  /** Unix time (seconds) after which the token is no longer valid. */
  expires: number;
  created_at: string;
}

/** A floating IP of an external network, allocated to a project and maybe bound to a fixed IP of a port. */
export interface FloatingIpRow {
  id: string;
  address: string;
  network_id: string;
  project_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  instance_uuid: string | null;
  created_at: string;
  updated_at: string;
}

/** A fixed IP added to a port after boot (addFixedIp), beyond the port's own address. */
export interface PortFixedIpRow {
  id: Generated<number>;
  port_id: string;
  instance_uuid: string;
  network_id: string;
  address: string;
  created_at: string;
}

/** Networks gain `external` (1: a floating IP pool, not bootable on). Merged into NetworkRow above. */
export interface NetworkRow {
  external: Generated<number>;
}

/** Merged into InstanceTables above, so that the composed Database knows them. */
export interface InstanceTables {
  floating_ips: FloatingIpRow;
  port_fixed_ips: PortFixedIpRow;
  console_auth_tokens: ConsoleAuthTokenRow;
}
