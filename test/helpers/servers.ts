import type { TestCloud } from './cloud.js';

export async function cirrosId(cloud: TestCloud): Promise<string> {
  const res = await cloud.request({ url: '/image/v2/images?name=cirros' });
  const id = res.body?.images?.[0]?.id as string | undefined;
  if (!id) throw new Error(`no cirros image: ${res.status} ${res.text}`);
  return id;
}

export interface BootOpts {
  as?: 'admin' | 'demo' | 'alt_demo';
  version?: string;
  name?: string;
  flavorRef?: string;
  extra?: Record<string, unknown>;
  wait?: boolean;
}

/** Boots a server through the API and (by default) lets the build finish. Returns its id. */
export async function boot(cloud: TestCloud, o: BootOpts = {}): Promise<string> {
  const version = o.version ?? '2.1';
  const res = await cloud.request({
    method: 'POST',
    url: '/compute/v2.1/servers',
    as: o.as ?? 'demo',
    version,
    body: { server: { name: o.name ?? 'vm', flavorRef: o.flavorRef ?? '1', imageRef: await cirrosId(cloud), ...(o.extra ?? {}) } },
  });
  if (res.status !== 202) throw new Error(`boot failed: ${res.status} ${res.text}`);
  if (o.wait !== false) await cloud.settle();
  return res.body.server.id as string;
}
