import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { compileSchema } from '../lib/ajv.js';
import { RELEASE_MAX } from '../api/microversion.js';

const HostConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    availability_zone: Type.String({ default: 'nova' }),
    vcpus: Type.Integer({ minimum: 1, default: 16 }),
    memory_mb: Type.Integer({ minimum: 1, default: 65536 }),
    disk_gb: Type.Integer({ minimum: 1, default: 1000 }),
    cpu_allocation_ratio: Type.Number({ exclusiveMinimum: 0, default: 4.0 }),
    ram_allocation_ratio: Type.Number({ exclusiveMinimum: 0, default: 1.0 }),
    disk_allocation_ratio: Type.Number({ exclusiveMinimum: 0, default: 1.0 }),
    /** Hosts naming the same group share instance storage (live migration without block migration). */
    shared_storage: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** The host CPU as libvirt would report it: a destination must offer the source's model (or a newer one) and features. */
    cpu_model: Type.String({ minLength: 1, default: 'Nehalem' }),
    /** The host's architecture (what images with hw_architecture may ask for). */
    cpu_arch: Type.String({ minLength: 1, default: 'x86_64' }),
    cpu_vendor: Type.String({ minLength: 1, default: 'Intel' }),
    cpu_features: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    /** Release profile: caps the maximum compute microversion (e.g. 2024.1 -> 2.96). */
    release: Type.Union(Object.keys(RELEASE_MAX).map((k) => Type.Literal(k)), { default: 'master' }),
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8774 }),
    data_dir: Type.String({ default: './data' }),
    /** Public base URL for the catalog; defaults to http://<host>:<port>. */
    public_url: Type.Optional(Type.String()),
    region: Type.String({ default: 'RegionOne' }),
    log_level: Type.String({ default: 'info' }),
    auth: Type.Object(
      {
        mode: Type.Union([Type.Literal('keystone'), Type.Literal('noauth')], { default: 'keystone' }),
        token_ttl_seconds: Type.Integer({ minimum: 1, default: 3600 }),
        passwords: Type.Object(
          {
            admin: Type.String({ minLength: 1, default: 'stratus-admin' }),
            demo: Type.String({ minLength: 1, default: 'stratus-demo' }),
            alt_demo: Type.String({ minLength: 1, default: 'stratus-alt' }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    policy_file: Type.Optional(Type.String()),
    compute: Type.Object(
      {
        hosts: Type.Array(HostConfig, {
          default: [
            { name: 'compute1' },
            { name: 'compute2' },
          ],
        }),
        /** instant: every virt step completes at once (tests); visible: steps take step_ms. */
        timing: Type.Union([Type.Literal('visible'), Type.Literal('instant')], { default: 'visible' }),
        step_ms: Type.Integer({ minimum: 0, default: 400 }),
        reclaim_instance_interval: Type.Integer({ minimum: 0, default: 0 }),
        /** Seconds a shelved server keeps its host before it is offloaded: 0 at once, -1 never. */
        shelved_offload_time: Type.Integer({ minimum: -1, default: 0 }),
        max_limit: Type.Integer({ minimum: 1, default: 1000 }),
        default_availability_zone: Type.String({ default: 'nova' }),
        /** Seconds without a heartbeat after which a service is down. */
        service_down_time: Type.Integer({ minimum: 1, default: 60 }),
        /** Whether a resize or cold migration may pick the server's own host. */
        allow_resize_to_same_host: Type.Boolean({ default: false }),
        /** Seconds after which a resized server (VERIFY_RESIZE) is confirmed automatically; 0 = never. */
        resize_confirm_window: Type.Integer({ minimum: 0, default: 0 }),
        /** Hosts a build may try: the scheduler's choice and its alternates (Nova's [scheduler] max_attempts). */
        max_attempts: Type.Integer({ minimum: 1, default: 3 }),
        /** Destinations a live migration may try after failed pre-checks; -1 = no limit (Nova's migrate_max_retries). */
        migrate_max_retries: Type.Integer({ minimum: -1, default: -1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The filter scheduler's weigher multipliers (Nova's [filter_scheduler]): positive spreads, negative stacks. */
    scheduler: Type.Object(
      {
        ram_weight_multiplier: Type.Number({ default: 1.0 }),
        cpu_weight_multiplier: Type.Number({ default: 1.0 }),
        soft_affinity_weight_multiplier: Type.Number({ minimum: 0, default: 1.0 }),
        soft_anti_affinity_weight_multiplier: Type.Number({ minimum: 0, default: 1.0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    quotas: Type.Object(
      {
        instances: Type.Integer({ minimum: -1, default: 10 }),
        cores: Type.Integer({ minimum: -1, default: 20 }),
        ram: Type.Integer({ minimum: -1, default: 51200 }),
        metadata_items: Type.Integer({ minimum: -1, default: 128 }),
        key_pairs: Type.Integer({ minimum: -1, default: 100 }),
        server_groups: Type.Integer({ minimum: -1, default: 10 }),
        server_group_members: Type.Integer({ minimum: -1, default: 10 }),
        injected_files: Type.Integer({ minimum: -1, default: 5 }),
        injected_file_content_bytes: Type.Integer({ minimum: -1, default: 10240 }),
        injected_file_path_bytes: Type.Integer({ minimum: -1, default: 255 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type HostConfig = Static<typeof HostConfig>;

const validate = compileSchema(ConfigSchema, { useDefaults: true });

/** Parses and validates a configuration object, filling defaults. Throws on invalid input. */
export function makeConfig(input: unknown = {}): Config {
  const copy: unknown = structuredClone(input ?? {});
  if (!validate(copy)) {
    const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
    throw new Error(`invalid configuration: ${detail}`);
  }
  return copy;
}

/** Loads configuration from STRATUS_CONFIG (YAML or JSON) and the STRATUS_* environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let raw: Record<string, unknown> = {};
  if (env.STRATUS_CONFIG) {
    const parsed: unknown = parseYaml(readFileSync(env.STRATUS_CONFIG, 'utf8'));
    if (parsed !== null && typeof parsed === 'object') raw = parsed as Record<string, unknown>;
  }
  if (env.STRATUS_HOST) raw.host = env.STRATUS_HOST;
  if (env.STRATUS_PORT) raw.port = Number(env.STRATUS_PORT);
  if (env.STRATUS_DATA_DIR) raw.data_dir = env.STRATUS_DATA_DIR;
  return makeConfig(raw);
}
