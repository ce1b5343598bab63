// The session through openstacksdk and python-novaclient (the Debian
// packages, run with /usr/bin/python3).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, clientEnv, clientsOrSkip, startService } from './helpers/service.mjs';
import { assertStep, runPythonSteps, sshKey } from './helpers/session.mjs';

const SDK_SCRIPT = join(ROOT, 'test', 'e2e', 'python', 'sdk_session.py');
const NOVA_SCRIPT = join(ROOT, 'test', 'e2e', 'python', 'novaclient_session.py');
const SDK_STEPS = [
  'connect',
  'flavors',
  'images',
  'keypair create',
  'server create',
  'wait_for_server',
  'server get',
  'server list',
  'server update',
  'server delete',
  'keypair delete',
];

let skip = false;
let clientProblem = null;
try {
  skip = await clientsOrSkip({ python: ['openstack', 'novaclient'] });
} catch (err) {
  clientProblem = err;
}
if (clientProblem) {
  it('the OpenStack Python clients are installed', () => {
    throw clientProblem;
  });
}

describe('python clients', { skip: skip || clientProblem !== null }, () => {
  let svc;
  let key;
  let env;
  before(async () => {
    svc = await startService({ config: { compute: { timing: 'visible', step_ms: 50 } } });
    key = await sshKey(svc.dir);
    env = clientEnv({ OS_CLIENT_CONFIG_FILE: svc.cloudsYaml });
  });
  after(async () => {
    if (svc) {
      const status = await svc.stop();
      assert.equal(status.code, 0, `the service should exit 0 on SIGTERM, got ${JSON.stringify(status)}`);
    }
  });

  // undefined: the SDK negotiates (the lower of its per-resource maximum and the cloud's);
  // 2.96: every compute request is sent at 2.96 (the 2024.1 maximum).
  for (const version of [undefined, '2.96']) {
    const label = version ?? 'negotiated';
    describe(`openstacksdk, microversion ${label}`, () => {
      let result;
      before(async () => {
        result = await runPythonSteps(SDK_SCRIPT, ['stratus-demo', label.replace(/\W/g, ''), key.pubPath, version ?? ''], env);
      });
      for (const step of SDK_STEPS) {
        it(step, () => {
          const s = assertStep(result, step, `openstacksdk at ${label}`);
          if (step === 'keypair create') assert.equal(s.fingerprint, key.fingerprint);
        });
      }
    });
  }

  describe('python-novaclient at 2.latest', () => {
    let result;
    before(async () => {
      result = await runPythonSteps(NOVA_SCRIPT, ['stratus-demo', 'latest'], env);
    });
    it('negotiates 2.latest', () => {
      const s = assertStep(result, 'connect', 'novaclient');
      assert.match(s.version, /^2\.\d+$/);
    });
    it('boots a server', () => {
      assertStep(result, 'boot', 'novaclient');
    });
    it('lists servers', () => {
      assertStep(result, 'servers.list', 'novaclient');
    });
    it('deletes the server', () => {
      assertStep(result, 'delete', 'novaclient');
    });
  });
});
