/* global AbortSignal */
// A small raw-HTTP client for the running service: a Keystone v3 password
// login and compute requests with a microversion. For the checks a CLI
// cannot make fast enough (e.g. catching a server mid-action).

/**
 * Logs in as one of the clouds.yaml accounts and returns a client whose
 * `request` follows `base()` (the service may come back on another port).
 */
export async function computeClient(base, auth, { version = 'latest' } = {}) {
  let token = await login(base(), auth);
  const request = async (method, path, { body, version: v = version, retryAuth = true } = {}) => {
    const headers = { 'x-auth-token': token, 'openstack-api-version': `compute ${v}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Paths under /image/ or /identity/ are taken as they are; anything else is a compute path.
    const url = /^\/(image|identity)\//.test(path) ? `${base()}${path}` : `${base()}/compute/v2.1${path}`;
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    // Tokens are kept in the database, so they survive a restart; log in again only if one does not.
    if (res.status === 401 && retryAuth) {
      token = await login(base(), auth);
      return request(method, path, { body, version: v, retryAuth: false });
    }
    const text = await res.text();
    let json;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, body: json, text, requestId: res.headers.get('x-openstack-request-id') };
  };
  return { request };
}

async function login(base, auth) {
  const res = await fetch(`${base}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: auth.user_domain_name ?? 'Default' }, password: auth.password } } },
        scope: { project: { name: auth.project_name, domain: { name: auth.project_domain_name ?? 'Default' } } },
      },
    }),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 201) throw new Error(`login as ${auth.username} failed: ${res.status} ${await res.text()}`);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('no X-Subject-Token in the login response');
  return token;
}
