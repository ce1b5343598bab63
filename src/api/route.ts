import type { RequestContext } from '../context.js';
import type { ApiVersion } from './microversion.js';
import type { VersionedSchema } from './validation.js';

export type Query = Record<string, string | string[] | undefined>;

/** Absolute URL prefixes for links in response bodies. */
export interface Urls {
  /** e.g. http://127.0.0.1:8774/compute/v2.1 (plus /{project_id} when the request URL had it). */
  versioned: string;
  /** e.g. http://127.0.0.1:8774/compute (bookmark links, no version). */
  bookmark: string;
}

export interface ComputeRequest {
  ctx: RequestContext;
  mv: ApiVersion;
  params: Record<string, string>;
  query: Query;
  body: unknown;
  requestId: string;
  urls: Urls;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** A body already serialised as JSON (takes precedence over `body`). */
  json?: string;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path below /compute/v2.1, with `:param` segments. */
  path: string;
  /** Microversion range in which the route exists; outside it the route is a 404. */
  min?: string;
  max?: string;
  /** Request body schemas by microversion. */
  body?: VersionedSchema;
  /** Query-string schemas by microversion. */
  query?: VersionedSchema;
  handler: (req: ComputeRequest) => Promise<Reply> | Reply;
}
