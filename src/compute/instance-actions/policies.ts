import { ADMIN, PROJECT_READER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

export const IA_POLICY = {
  list: 'os_compute_api:os-instance-actions:list',
  show: 'os_compute_api:os-instance-actions:show',
  events: 'os_compute_api:os-instance-actions:events',
  eventsDetails: 'os_compute_api:os-instance-actions:events:details',
} as const;

export const instanceActionsPolicies: PolicyDefault[] = [
  {
    name: IA_POLICY.eventsDetails,
    check: ADMIN,
    description: 'Add "details" key in action events for a server. From 2.84 the events carry the details of a failure.',
    operations: [{ method: 'GET', path: '/servers/{server_id}/os-instance-actions/{request_id}' }],
  },
  {
    name: IA_POLICY.events,
    check: ADMIN,
    description: 'Add events details in action details for a server. Before 2.51 events are shown only with this rule; it also shows the traceback and (2.62) the host.',
    operations: [{ method: 'GET', path: '/servers/{server_id}/os-instance-actions/{request_id}' }],
  },
  {
    name: IA_POLICY.list,
    check: PROJECT_READER_OR_ADMIN,
    description: 'List actions for a server.',
    operations: [{ method: 'GET', path: '/servers/{server_id}/os-instance-actions' }],
  },
  {
    name: IA_POLICY.show,
    check: PROJECT_READER_OR_ADMIN,
    description: 'Show action details for a server.',
    operations: [{ method: 'GET', path: '/servers/{server_id}/os-instance-actions/{request_id}' }],
  },
];
