import { PASSWORD_SET_FAILED } from '../../compute/actions/password.js';
import { eventFinish, eventStart } from '../../compute/actions/record.js';
import { casUpdate, recordFault } from '../../compute/servers/repo.js';
import { PowerState } from '../../compute/states.js';
import type { AgentOp } from '../context.js';

const TASK = 'updating_password';

/** Nova's InstancePasswordSetFailed: its message is what the client's 409 says. */
class PasswordSetFailed extends Error {
  constructor(uuid: string, reason: string) {
    super(`Failed to set admin password on ${uuid} because ${reason}`);
    this.name = PASSWORD_SET_FAILED;
  }
}

/**
 * Compute side of changePassword, answered to the API (a call, not a cast).
 * The guest must be running; a driver error is reported without its detail
 * (it could contain the password). Either way task_state returns to None,
 * and a failure leaves a fault and a failed event before it is raised.
 */
export const passwordOps: Record<string, AgentOp> = {
  set_admin_password: async (ctx, args) => {
    const uuid = String(args.uuid);
    const requestId = typeof args.requestId === 'string' ? args.requestId : undefined;
    const password = typeof args.password === 'string' ? args.password : '';
    const { db, driver, host, log } = ctx.deps;
    const inst = await ctx.mine(uuid);
    if (!inst) return;
    const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_set_admin_password', host }, ctx.now()) : undefined;
    try {
      if ((await driver.powerState(uuid)) !== PowerState.RUNNING) throw new PasswordSetFailed(uuid, `instance ${uuid} is not running`);
      try {
        await driver.setAdminPassword(uuid, password);
      } catch (err) {
        log.warn({ err, uuid, host }, 'set_admin_password failed');
        throw new PasswordSetFailed(uuid, 'error setting admin password');
      }
      await casUpdate(db, uuid, [TASK], { task_state: null, updated_at: ctx.now() });
      await eventFinish(db, ev, ctx.now());
    } catch (err) {
      const now = ctx.now();
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: now });
      await casUpdate(db, uuid, [TASK], { task_state: null, updated_at: now });
      await eventFinish(db, ev, now, err);
      throw err;
    }
  },
};
