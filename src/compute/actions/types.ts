import type { ComputeRequest, Reply } from '../../api/route.js';
import type { VersionedSchema } from '../../api/validation.js';
import type { ComputeDeps } from '../deps.js';
import type { Instance } from '../servers/repo.js';

/** One `POST /servers/{id}/action` body key (Nova's @wsgi.action). */
export interface ActionDef {
  /** The body key, e.g. `pause`. */
  key: string;
  /** Microversion range in which the action exists; outside it, 404. */
  min?: string;
  max?: string;
  /** Schema of the whole body (`{"pause": null}`), by microversion. */
  body: VersionedSchema;
  /** Runs with the server already loaded (another project's server is a 404 before this). */
  handler: (deps: ComputeDeps, req: ComputeRequest, inst: Instance) => Promise<Reply>;
}
