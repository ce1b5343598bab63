import type { ComputeRequest, Reply } from '../../api/route.js';
import { notFound } from '../../errors.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, loadServer, targetOf } from './common.js';
import { SP } from './policies.js';

async function addresses(deps: ComputeDeps, uuid: string): Promise<Record<string, { version: number; addr: string }[]>> {
  const byNet = (await deps.network.addressesOf([uuid])).get(uuid) ?? {};
  const out: Record<string, { version: number; addr: string }[]> = {};
  for (const [net, list] of Object.entries(byNet)) out[net] = list.map((a) => ({ version: a.version, addr: a.addr }));
  return out;
}

/** GET /servers/{id}/ips */
export async function listIps(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.ipsIndex, targetOf(inst));
  return { status: 200, body: { addresses: await addresses(deps, inst.uuid) } };
}

/** GET /servers/{id}/ips/{network_label} */
export async function showIps(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.ipsShow, targetOf(inst));
  const label = req.params.network_label ?? '';
  const all = await addresses(deps, inst.uuid);
  const list = all[label];
  if (!list) throw notFound('Network could not be found.');
  return { status: 200, body: { [label]: list } };
}
