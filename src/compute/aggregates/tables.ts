import type { Generated } from 'kysely';

/** A host aggregate (Nova's API-database `aggregates` row). Times as in InstanceRow. */
export interface AggregateRow {
  id: Generated<number>;
  uuid: string;
  name: string;
  created_at: string;
  /** Changed by a rename only (metadata and hosts live in their own tables), as in Nova. */
  updated_at: string | null;
}

/** A compute host's membership of an aggregate. */
export interface AggregateHostRow {
  id: Generated<number>;
  aggregate_id: number;
  host: string;
  created_at: string;
}

/** One metadata key of an aggregate; `availability_zone` names the zone of its hosts. */
export interface AggregateMetadataRow {
  id: Generated<number>;
  aggregate_id: number;
  key: string;
  value: string;
  created_at: string;
}

export interface AggregateTables {
  aggregates: AggregateRow;
  aggregate_hosts: AggregateHostRow;
  aggregate_metadata: AggregateMetadataRow;
}
