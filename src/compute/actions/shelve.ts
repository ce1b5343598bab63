import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { badRequest, conflict } from '../../errors.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { CONDUCTOR_TOPIC, type UnshelveRequest } from '../conductor.js';
import { availabilityZoneNames } from '../resources/availability-zones.js';
import { authorize, targetOf } from '../servers/common.js';
import { casUpdate, type InstanceUpdate } from '../servers/repo.js';
import { obj } from '../servers/schema.js';
import { VmState } from '../states.js';
import { registerImage, shelveImageId } from './image-support.js';
import { begin, castToHost, check } from './start.js';
import { startAction } from './start.js';
import { hostZone } from '../aggregates/repo.js';
import type { ActionDef } from './types.js';

/**
 * shelve snapshots the server into `<name>-shelved` and powers it off
 * (SHELVED); with compute.shelved_offload_time 0 (the default) it is also
 * offloaded at once (SHELVED_OFFLOADED: guest destroyed, host freed).
 * shelveOffload offloads a SHELVED server (admin). unshelve powers a
 * SHELVED server on where it is, or has the conductor schedule an
 * offloaded one again (2.77 availability_zone, 2.91 host and
 * availability_zone null to unpin).
 */
const POLICY = {
  shelve: 'os_compute_api:os-shelve:shelve',
  unshelve: 'os_compute_api:os-shelve:unshelve',
  unshelveToHost: 'os_compute_api:os-shelve:unshelve_to_host',
  shelveOffload: 'os_compute_api:os-shelve:shelve_offload',
};

const op = (action: string) => [{ method: 'POST', path: `/servers/{server_id}/action (${action})` }];

export const shelvePolicies: PolicyDefault[] = [
  { name: POLICY.shelve, check: PROJECT_MEMBER_OR_ADMIN, description: 'Shelve server', operations: op('shelve') },
  { name: POLICY.unshelve, check: PROJECT_MEMBER_OR_ADMIN, description: 'Unshelve (restore) shelved server', operations: op('unshelve') },
  { name: POLICY.unshelveToHost, check: ADMIN, description: 'Unshelve (restore) shelve offloaded server to a specific host', operations: op('unshelve') },
  { name: POLICY.shelveOffload, check: ADMIN, description: 'Shelf-offload (remove) server', operations: op('shelveOffload') },
];

const anyValue = (key: string) => obj({ [key]: Type.Unknown() }, [key]);

const unshelveBody = schemaFor(
  { min: '2.1', max: '2.76', schema: anyValue('unshelve') },
  {
    min: '2.77',
    max: '2.90',
    schema: obj({ unshelve: Type.Union([Type.Null(), obj({ availability_zone: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' }) }, ['availability_zone'])]) }, ['unshelve']),
  },
  {
    min: '2.91',
    schema: obj({ unshelve: Type.Union([Type.Null(), obj({ availability_zone: Type.Union([Type.String(), Type.Null()]), host: Type.String() })]) }, ['unshelve']),
  },
);

export const shelveActions: ActionDef[] = [
  {
    key: 'shelve',
    body: schemaFor({ schema: anyValue('shelve') }),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, {
        policy: POLICY.shelve,
        target: 'owner',
        stateAction: 'shelve',
        vmStates: [VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED],
      });
      const updated = await begin(deps, req, inst, { stateAction: 'shelve', action: 'shelve', values: { task_state: 'shelving' } });
      let imageId: string;
      try {
        imageId = await registerImage(deps, req, inst, { name: `${inst.display_name}-shelved`, imageType: 'snapshot', id: shelveImageId(inst.uuid, req.requestId) });
      } catch (err) {
        await casUpdate(deps.db, inst.uuid, ['shelving'], { task_state: null });
        throw err;
      }
      castToHost(deps, req, updated, 'shelve_instance', { imageId, offload: deps.config.compute.shelved_offload_time === 0 });
      return { status: 202 };
    },
  },
  {
    key: 'shelveOffload',
    body: schemaFor({ schema: anyValue('shelveOffload') }),
    handler: async (deps, req, inst) => {
      await startAction(deps, req, inst, {
        policy: POLICY.shelveOffload,
        stateAction: 'shelveOffload',
        action: 'shelveOffload',
        vmStates: [VmState.SHELVED],
        taskState: 'shelving_offloading',
        method: 'shelve_offload_instance',
      });
      return { status: 202 };
    },
  },
  {
    key: 'unshelve',
    body: unshelveBody,
    handler: async (deps, req, inst) => {
      const { mv } = req;
      const { config } = deps;
      authorize(deps, req, POLICY.unshelve, { project_id: inst.project_id });
      const u = (req.body as { unshelve: unknown }).unshelve;
      let azPassed = false;
      let newAz: string | null = null;
      let host: string | undefined;
      if (u !== null && typeof u === 'object' && !Array.isArray(u)) {
        const d = u as { availability_zone?: string | null; host?: string };
        if (mv.ge('2.77') && 'availability_zone' in d) {
          azPassed = true;
          newAz = d.availability_zone ?? null;
        }
        if (mv.ge('2.91')) host = d.host;
      }
      check(deps, req, inst, {
        policy: POLICY.unshelve,
        target: 'project',
        stateAction: 'unshelve',
        vmStates: [VmState.SHELVED, VmState.SHELVED_OFFLOADED],
      });
      if ((azPassed || host !== undefined) && inst.vm_state !== VmState.SHELVED_OFFLOADED) {
        throw conflict(
          `Specifying an availability zone or a host when unshelving server "${inst.uuid}" with status "${inst.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`,
        );
      }
      if (azPassed && newAz && !availabilityZoneNames(deps).includes(newAz)) {
        throw badRequest('The requested availability zone is not available');
      }
      const expectedAz = azPassed ? newAz : inst.requested_az;
      if (host !== undefined) {
        authorize(deps, req, POLICY.unshelveToHost, targetOf(inst));
        const h = config.compute.hosts.find((x) => x.name === host);
        if (!h) throw badRequest(`Compute host ${host} could not be found.`);
        const hostAz = hostZone(deps, h.name);
        if (expectedAz !== null && hostAz !== expectedAz) throw conflict(`Host "${host}" is not in the availability zone "${expectedAz}".`);
      }
      const values: InstanceUpdate = { task_state: 'unshelving', ...(azPassed ? { requested_az: newAz } : {}) };
      await begin(deps, req, inst, { stateAction: 'unshelve', action: 'unshelve', values });
      const args: UnshelveRequest = { uuid: inst.uuid, requestId: req.requestId, requestedHost: host ?? null };
      deps.bus.cast(CONDUCTOR_TOPIC, 'unshelve_instance', { ...args });
      return { status: 202 };
    },
  },
];
