import { ADMIN, policyRule } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

export const AGGREGATE_POLICY = {
  index: 'os_compute_api:os-aggregates:index',
  create: 'os_compute_api:os-aggregates:create',
  show: 'os_compute_api:os-aggregates:show',
  update: 'os_compute_api:os-aggregates:update',
  delete: 'os_compute_api:os-aggregates:delete',
  addHost: 'os_compute_api:os-aggregates:add_host',
  removeHost: 'os_compute_api:os-aggregates:remove_host',
  setMetadata: 'os_compute_api:os-aggregates:set_metadata',
  images: 'compute:aggregates:images',
} as const;

const ONE = '/os-aggregates/{aggregate_id}';

/** Nova's defaults: every aggregate operation is for administrators. */
export const aggregatePolicies: PolicyDefault[] = [
  policyRule(AGGREGATE_POLICY.setMetadata, ADMIN, 'Set or remove metadata keys of a host aggregate.', 'POST', `${ONE}/action (set_metadata)`),
  policyRule(AGGREGATE_POLICY.addHost, ADMIN, 'Put a compute host into a host aggregate.', 'POST', `${ONE}/action (add_host)`),
  policyRule(AGGREGATE_POLICY.create, ADMIN, 'Create a host aggregate.', 'POST', '/os-aggregates'),
  policyRule(AGGREGATE_POLICY.removeHost, ADMIN, 'Take a compute host out of a host aggregate.', 'POST', `${ONE}/action (remove_host)`),
  policyRule(AGGREGATE_POLICY.update, ADMIN, 'Rename a host aggregate or change its availability zone.', 'PUT', ONE),
  policyRule(AGGREGATE_POLICY.index, ADMIN, 'List the host aggregates.', 'GET', '/os-aggregates'),
  policyRule(AGGREGATE_POLICY.delete, ADMIN, 'Delete a host aggregate.', 'DELETE', ONE),
  policyRule(AGGREGATE_POLICY.show, ADMIN, 'Show a host aggregate with its hosts and metadata.', 'GET', ONE),
  policyRule(AGGREGATE_POLICY.images, ADMIN, 'Ask the hosts of an aggregate to cache images.', 'POST', `${ONE}/images`),
];
