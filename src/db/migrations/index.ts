import type { Migration } from 'kysely';
import { m0001Identity } from './0001_identity.js';
import { m0002Images } from './0002_images.js';
import { m0003ComputeResources } from './0003_compute_resources.js';
import { m0004Instances } from './0004_instances.js';
import { m0005InstanceActions } from './0005_instance_actions.js';
import { m0006ConsoleTokens } from './0006_console_tokens.js';
import { m0007ComputeServices } from './0007_compute_services.js';
import { m0008ServerGroups } from './0008_server_groups.js';
import { m0009Migrations } from './0009_migrations.js';
import { m0010MigrationProgress } from './0010_migration_progress.js';
import { m0011Aggregates } from './0011_aggregates.js';

/**
 * Numbered, dialect-neutral migrations (schema builder only; no raw SQL that
 * SQLite and PostgreSQL disagree on). Never edit a migration that has shipped:
 * add the next number.
 */
export const migrations: Record<string, Migration> = {
  '0001_identity': m0001Identity,
  '0002_images': m0002Images,
  '0003_compute_resources': m0003ComputeResources,
  '0004_instances': m0004Instances,
  '0005_instance_actions': m0005InstanceActions,
  '0006_console_tokens': m0006ConsoleTokens,
  '0007_compute_services': m0007ComputeServices,
  '0008_server_groups': m0008ServerGroups,
  '0009_migrations': m0009Migrations,
  '0010_migration_progress': m0010MigrationProgress,
  '0011_aggregates': m0011Aggregates,
};
