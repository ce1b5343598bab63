import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { badRequest, notFound } from '../../errors.js';
import { NetworkError, type FloatingIp } from '../../network/model.js';
import { FIP_POLICY } from '../actions/floating-ips.js';
import type { ComputeDeps } from '../deps.js';
import { authorize } from '../resources/common.js';
import { pyRepr } from '../../api/validation.js';

/** The proxy to the network service's floating IPs (deprecated: up to 2.35). */
const MAX_PROXY = '2.35';

export function floatingIpView(f: FloatingIp): Record<string, unknown> {
  return { fixed_ip: f.fixed_ip_address, id: f.id, instance_id: f.instance_uuid, ip: f.address, pool: f.pool };
}

const own = (req: ComputeRequest) => ({ project_id: req.ctx.projectId });
const scopeOf = (req: ComputeRequest): string | null => (req.ctx.isAdmin ? null : (req.ctx.projectId ?? ''));

async function listFloatingIps(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FIP_POLICY.list, own(req));
  const rows = await deps.network.floatingIpsOf(req.ctx.projectId ?? '');
  return { status: 200, body: { floating_ips: rows.map(floatingIpView) } };
}

async function getFloatingIp(deps: ComputeDeps, req: ComputeRequest): Promise<FloatingIp> {
  const id = req.params.id ?? '';
  const fip = await deps.network.floatingIpById(id, scopeOf(req));
  if (!fip) throw notFound(`Floating IP not found for ID ${id}`);
  return fip;
}

async function showFloatingIp(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FIP_POLICY.show, own(req));
  return { status: 200, body: { floating_ip: floatingIpView(await getFloatingIp(deps, req)) } };
}

/** POST /os-floating-ips: allocates from `pool` (default: the first external network). */
async function createFloatingIp(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body: unknown = req.body;
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    throw badRequest(`Invalid input for field/attribute . Value: ${pyRepr(body)}. ${pyRepr(body)} is not of type 'object', 'null'`);
  }
  const rawPool = body ? (body as Record<string, unknown>).pool : undefined;
  if (rawPool !== undefined && rawPool !== null && typeof rawPool !== 'string') {
    throw badRequest(`Invalid input for field/attribute pool. Value: ${pyRepr(rawPool)}. ${pyRepr(rawPool)} is not of type 'string', 'null'`);
  }
  authorize(deps, req, FIP_POLICY.create, own(req));
  const pool = typeof rawPool === 'string' && rawPool !== '' ? rawPool : null;
  try {
    const fip = await deps.network.allocateFloatingIp(req.ctx.projectId ?? '', pool);
    return { status: 200, body: { floating_ip: floatingIpView(fip) } };
  } catch (err) {
    if (err instanceof NetworkError && err.kind === 'fip-exhausted') {
      throw notFound(pool ? `No more floating IPs in pool ${pool}.` : 'No more floating IPs available.');
    }
    if (err instanceof NetworkError) throw notFound(err.message);
    throw err;
  }
}

async function deleteFloatingIp(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FIP_POLICY.delete, own(req));
  const fip = await getFloatingIp(deps, req);
  await deps.network.releaseFloatingIp(fip);
  return { status: 202 };
}

async function listPools(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FIP_POLICY.pools, {});
  const pools = await deps.network.floatingIpPools();
  return { status: 200, body: { floating_ip_pools: pools.map((p) => ({ name: p.name || p.id })) } };
}

export function floatingIpRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-floating-ips', max: MAX_PROXY, handler: (r) => listFloatingIps(deps, r) },
    { method: 'POST', path: '/os-floating-ips', max: MAX_PROXY, handler: (r) => createFloatingIp(deps, r) },
    { method: 'GET', path: '/os-floating-ips/:id', max: MAX_PROXY, handler: (r) => showFloatingIp(deps, r) },
    { method: 'DELETE', path: '/os-floating-ips/:id', max: MAX_PROXY, handler: (r) => deleteFloatingIp(deps, r) },
    { method: 'GET', path: '/os-floating-ip-pools', max: MAX_PROXY, handler: (r) => listPools(deps, r) },
  ];
}
