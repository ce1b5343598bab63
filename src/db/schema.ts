import type { IdentityTables } from '../identity/tables.js';
import type { ImageTables } from '../image/tables.js';
import type { ComputeResourceTables } from '../compute/resources/tables.js';
import type { InstanceActionTables, InstanceTables } from '../compute/tables.js';
import type { ComputeServiceTables } from '../compute/os-services/tables.js';
import type { ServerGroupTables } from '../compute/server-groups/tables.js';
import type { MigrationTables } from '../compute/migrations/tables.js';
import type { AggregateTables } from '../compute/aggregates/tables.js';

/** Every table, composed from the modules that own them. */
export interface Database extends IdentityTables, ImageTables, ComputeResourceTables, InstanceTables, InstanceActionTables, ComputeServiceTables, MigrationTables, ServerGroupTables, AggregateTables {}
