import type { RouteDef } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';
import { dispatchAction } from '../actions/index.js';
import { createServer } from './create.js';
import { listIps, showIps } from './ips.js';
import { listServers } from './list.js';
import { createMetadata, deleteMetadataItem, listMetadata, replaceMetadata, showMetadataItem, updateMetadataItem } from './metadata.js';
import { createSchema, metaItemSchema, metadataBodySchema, tagsBodySchema, updateSchema } from './schema.js';
import { deleteServer, showServer, updateServer } from './server.js';
import { addTag, checkTagExists, deleteAllTags, deleteTag, listTags, replaceTags } from './tags.js';

export function serverRoutes(deps: ComputeDeps): RouteDef[] {
  const S = '/servers/:server_id';
  return [
    { method: 'GET', path: '/servers', handler: (r) => listServers(deps, r, false) },
    { method: 'GET', path: '/servers/detail', handler: (r) => listServers(deps, r, true) },
    { method: 'POST', path: '/servers', body: createSchema, handler: (r) => createServer(deps, r) },
    { method: 'GET', path: S, handler: (r) => showServer(deps, r) },
    { method: 'PUT', path: S, body: updateSchema, handler: (r) => updateServer(deps, r) },
    { method: 'DELETE', path: S, handler: (r) => deleteServer(deps, r) },
    { method: 'POST', path: `${S}/action`, handler: (r) => dispatchAction(deps, r) },
    { method: 'GET', path: `${S}/metadata`, handler: (r) => listMetadata(deps, r) },
    { method: 'POST', path: `${S}/metadata`, body: metadataBodySchema, handler: (r) => createMetadata(deps, r) },
    { method: 'PUT', path: `${S}/metadata`, body: metadataBodySchema, handler: (r) => replaceMetadata(deps, r) },
    { method: 'GET', path: `${S}/metadata/:key`, handler: (r) => showMetadataItem(deps, r) },
    { method: 'PUT', path: `${S}/metadata/:key`, body: metaItemSchema, handler: (r) => updateMetadataItem(deps, r) },
    { method: 'DELETE', path: `${S}/metadata/:key`, handler: (r) => deleteMetadataItem(deps, r) },
    { method: 'GET', path: `${S}/tags`, min: '2.26', handler: (r) => listTags(deps, r) },
    { method: 'PUT', path: `${S}/tags`, min: '2.26', body: tagsBodySchema, handler: (r) => replaceTags(deps, r) },
    { method: 'DELETE', path: `${S}/tags`, min: '2.26', handler: (r) => deleteAllTags(deps, r) },
    { method: 'GET', path: `${S}/tags/:tag`, min: '2.26', handler: (r) => checkTagExists(deps, r) },
    { method: 'PUT', path: `${S}/tags/:tag`, min: '2.26', handler: (r) => addTag(deps, r) },
    { method: 'DELETE', path: `${S}/tags/:tag`, min: '2.26', handler: (r) => deleteTag(deps, r) },
    { method: 'GET', path: `${S}/ips`, handler: (r) => listIps(deps, r) },
    { method: 'GET', path: `${S}/ips/:network_label`, handler: (r) => showIps(deps, r) },
  ];
}
