// Reads what the openstack CLI logged with --debug: the server actions it
// POSTed and the request id the service answered each with.

const REQ = /^REQ: curl .*-X POST (\S+\/servers\/([0-9a-f-]{36})\/action) .*?-d '(.*)'\s*$/;
const USED = /^POST call to (?:compute for )?(\S+\/servers\/[0-9a-f-]{36}\/action) used request id (req-[0-9a-f-]+)\s*$/;

/**
 * The `POST /servers/{id}/action` requests in a `--debug` run, in order:
 * `{ serverId, action (the body's key, e.g. "os-stop"), body, requestId }`.
 * keystoneauth logs the request (`REQ: curl ... -d '<body>'`) and then
 * `POST call to [compute for ]<url> used request id <id>` for every response.
 */
export function postedActions(stderr) {
  const requests = [];
  const ids = [];
  for (const line of stderr.split('\n')) {
    const req = REQ.exec(line);
    if (req) {
      let body = null;
      try {
        body = JSON.parse(req[3] ?? '');
      } catch {
        // a body keystoneauth shortened or masked; the key is still the first word
      }
      const action = body !== null && typeof body === 'object' ? Object.keys(body)[0] : /^\{"([^"]+)"/.exec(req[3] ?? '')?.[1];
      requests.push({ url: req[1], serverId: req[2], action, body });
      continue;
    }
    const used = USED.exec(line);
    if (used) ids.push({ url: used[1], requestId: used[2] });
  }
  return requests.map((r, i) => ({ ...r, requestId: ids[i]?.url === r.url ? ids[i].requestId : undefined }));
}
