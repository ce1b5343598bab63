import { recordFault, touchInstance } from '../../compute/servers/repo.js';
import { NetworkError } from '../../network/model.js';
import type { AgentContext, AgentOp } from '../context.js';

/**
 * Compute side of os-multinic: change the server's ports in the network
 * model, push the new configuration into the guest, bump updated_at. As in
 * Nova (wrap_instance_fault, no task_state, no instance-action event), a
 * failure is only recorded as an instance fault.
 */
async function changeFixedIps(ctx: AgentContext, uuid: string, change: () => Promise<unknown>): Promise<void> {
  const { db, driver, network, log } = ctx.deps;
  const inst = await ctx.mine(uuid);
  if (!inst) return;
  try {
    await change();
    const ports = await network.portsOf(uuid);
    await driver.injectNetworkInfo(uuid, ports.map((p) => ({ portId: p.id, mac: p.mac, ips: p.fixedIps })));
    await touchInstance(db, uuid, { updated_at: ctx.now() });
  } catch (err) {
    log.warn({ err, uuid }, 'fixed IP change failed');
    const known = err instanceof NetworkError;
    const message = err instanceof Error ? err.message : String(err);
    await recordFault(db, uuid, {
      code: known ? 404 : 500,
      message: message.slice(0, 255),
      details: known ? '' : err instanceof Error ? (err.stack ?? message) : message,
      created_at: ctx.now(),
    });
  }
}

export const networkOps: Record<string, AgentOp> = {
  add_fixed_ip_to_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    return changeFixedIps(ctx, uuid, () => ctx.deps.network.addFixedIp(uuid, String(args.networkId)));
  },
  remove_fixed_ip_from_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    return changeFixedIps(ctx, uuid, () => ctx.deps.network.removeFixedIp(uuid, String(args.address)));
  },
};
