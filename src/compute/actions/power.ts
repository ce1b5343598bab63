import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { obj } from '../servers/schema.js';
import { VmState } from '../states.js';
import { castToHost, check, recordRequestAction, startAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * Power actions: os-start, os-stop, reboot (SOFT and HARD), suspend, resume
 * and trigger_crash_dump (2.17). Same shape as the pause exemplar.
 */
const POLICY = {
  reboot: 'os_compute_api:servers:reboot',
  start: 'os_compute_api:servers:start',
  stop: 'os_compute_api:servers:stop',
  crashDump: 'os_compute_api:servers:trigger_crash_dump',
  suspend: 'os_compute_api:os-suspend-server:suspend',
  resume: 'os_compute_api:os-suspend-server:resume',
};

const op = (action: string) => [{ method: 'POST', path: `/servers/{server_id}/action (${action})` }];

export const powerPolicies: PolicyDefault[] = [
  { name: POLICY.reboot, check: PROJECT_MEMBER_OR_ADMIN, description: 'Reboot a server', operations: op('reboot') },
  { name: POLICY.start, check: PROJECT_MEMBER_OR_ADMIN, description: 'Start a server', operations: op('os-start') },
  { name: POLICY.stop, check: PROJECT_MEMBER_OR_ADMIN, description: 'Stop a server', operations: op('os-stop') },
  { name: POLICY.crashDump, check: PROJECT_MEMBER_OR_ADMIN, description: 'Trigger crash dump in a server', operations: op('trigger_crash_dump') },
  { name: POLICY.suspend, check: PROJECT_MEMBER_OR_ADMIN, description: 'Suspend server', operations: op('suspend') },
  { name: POLICY.resume, check: PROJECT_MEMBER_OR_ADMIN, description: 'Resume suspended server', operations: op('resume') },
];

/** vm_states Nova allows per action (nova/compute/vm_states.py). */
export const ALLOW_SOFT_REBOOT: readonly string[] = [VmState.ACTIVE];
export const ALLOW_HARD_REBOOT: readonly string[] = [VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED, VmState.ERROR];
export const ALLOW_TRIGGER_CRASH_DUMP: readonly string[] = [VmState.ACTIVE, VmState.PAUSED, VmState.RESCUED, VmState.RESIZED, VmState.ERROR];
/** task_states from which a HARD reboot may start (nova/compute/task_states.py ALLOW_REBOOT). */
export const ALLOW_REBOOT_TASKS: readonly (string | null)[] = [
  null, 'rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending',
];

/** Bodies whose value Nova does not constrain (`{"os-start": <anything>}`). */
const anyValue = (key: string) => schemaFor({ schema: obj({ [key]: Type.Unknown() }, [key]) });

const rebootSchema = schemaFor({
  schema: obj(
    {
      reboot: obj(
        { type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((t) => Type.Literal(t))) },
        ['type'],
      ),
    },
    ['reboot'],
  ),
});

interface Simple {
  key: string;
  policy: string;
  target: 'owner' | 'project';
  stateAction: string;
  action: string;
  vmStates: readonly string[];
  taskState: string;
  method: string;
  needsHost?: boolean;
}

/** One action that takes a task_state and casts to the host, checked as Nova does. */
function simple(s: Simple): ActionDef {
  return {
    key: s.key,
    body: anyValue(s.key),
    handler: async (deps, req, inst) => {
      await startAction(deps, req, inst, {
        policy: s.policy,
        target: s.target,
        stateAction: s.stateAction,
        action: s.action,
        vmStates: s.vmStates,
        taskState: s.taskState,
        method: s.method,
        needsHost: s.needsHost ?? false,
      });
      return { status: 202 };
    },
  };
}

export const powerActions: ActionDef[] = [
  simple({
    key: 'os-start', policy: POLICY.start, target: 'owner', stateAction: 'start', action: 'start',
    vmStates: [VmState.STOPPED], taskState: 'powering-on', method: 'start_instance', needsHost: true,
  }),
  simple({
    key: 'os-stop', policy: POLICY.stop, target: 'owner', stateAction: 'stop', action: 'stop',
    vmStates: [VmState.ACTIVE, VmState.ERROR], taskState: 'powering-off', method: 'stop_instance', needsHost: true,
  }),
  simple({
    key: 'suspend', policy: POLICY.suspend, target: 'owner', stateAction: 'suspend', action: 'suspend',
    vmStates: [VmState.ACTIVE], taskState: 'suspending', method: 'suspend_instance',
  }),
  simple({
    key: 'resume', policy: POLICY.resume, target: 'project', stateAction: 'resume', action: 'resume',
    vmStates: [VmState.SUSPENDED], taskState: 'resuming', method: 'resume_instance',
  }),
  {
    key: 'reboot',
    body: rebootSchema,
    handler: async (deps, req, inst) => {
      const type = (req.body as { reboot: { type: string } }).reboot.type.toUpperCase() === 'SOFT' ? 'SOFT' : 'HARD';
      const vmStates = type === 'SOFT' ? ALLOW_SOFT_REBOOT : ALLOW_HARD_REBOOT;
      const taskStates = type === 'SOFT' ? [null] : ALLOW_REBOOT_TASKS;
      await startAction(deps, req, inst, {
        policy: POLICY.reboot,
        target: 'project',
        stateAction: 'reboot',
        action: 'reboot',
        vmStates,
        taskStates,
        taskState: type === 'SOFT' ? 'rebooting' : 'rebooting_hard',
        method: 'reboot_instance',
        args: { type },
      });
      return { status: 202 };
    },
  },
  {
    key: 'trigger_crash_dump',
    min: '2.17',
    body: schemaFor({ schema: obj({ trigger_crash_dump: Type.Null() }, ['trigger_crash_dump']) }),
    handler: async (deps, req, inst) => {
      // No task_state: the effect of the NMI depends on the guest's configuration.
      check(deps, req, inst, {
        policy: POLICY.crashDump, stateAction: 'trigger_crash_dump', vmStates: ALLOW_TRIGGER_CRASH_DUMP, needsHost: true,
      });
      await recordRequestAction(deps, req, inst, 'trigger_crash_dump');
      castToHost(deps, req, inst, 'trigger_crash_dump');
      return { status: 202 };
    },
  },
];
