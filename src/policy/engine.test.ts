import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Enforcer, interpolate, pyStr } from './engine.js';
import { createPolicy } from './index.js';
import { basePolicies } from './base.js';
import { ApiError } from '../errors.js';

const member = { user_id: 'u1', project_id: 'p1', roles: ['member', 'reader'], is_admin: false };
const admin = { user_id: 'u0', project_id: 'p0', roles: ['admin', 'member', 'reader'], is_admin: true };

describe('policy enforcer', () => {
  const e = new Enforcer([
    ...basePolicies,
    { name: 'always', check: '@' },
    { name: 'never', check: '!' },
    { name: 'empty', check: '' },
    { name: 'owner', check: 'user_id:%(user_id)s' },
    { name: 'loop_a', check: 'rule:loop_b' },
    { name: 'loop_b', check: 'rule:loop_a or role:nobody' },
    { name: 'broken', check: 'role:a or' },
  ]);

  it('evaluates @, ! and the empty rule', () => {
    assert.equal(e.enforce('always', {}, {}), true);
    assert.equal(e.enforce('never', {}, admin), false);
    assert.equal(e.enforce('empty', {}, {}), true);
  });

  it('denies unknown rules, broken rules and cycles', () => {
    assert.equal(e.enforce('no_such_rule', {}, admin), false);
    assert.equal(e.enforce('broken', {}, { roles: ['a'] }), false);
    assert.equal(e.enforce('loop_a', {}, admin), false);
    assert.equal(e.check('rule:no_such_rule', {}, admin), false);
  });

  it('matches roles case-insensitively', () => {
    assert.equal(e.check('role:ADMIN', {}, admin), true);
    assert.equal(e.check('role:admin', {}, { roles: ['Admin'] }), true);
    assert.equal(e.check('role:admin', {}, member), false);
    assert.equal(e.check('role:admin', {}, {}), false);
    assert.equal(e.check('role:%(r)s', { r: 'member' }, member), true);
    assert.equal(e.check('role:%(r)s', {}, member), false);
  });

  it('follows rule: references (the base rules)', () => {
    assert.equal(e.enforce('project_member_or_admin', { project_id: 'p1' }, member), true);
    assert.equal(e.enforce('project_member_or_admin', { project_id: 'p2' }, member), false);
    assert.equal(e.enforce('project_member_or_admin', { project_id: 'p2' }, admin), true);
    assert.equal(e.enforce('project_reader_or_admin', { project_id: 'p1' }, { ...member, roles: ['reader'] }), true);
    assert.equal(e.enforce('project_member_api', { project_id: 'p1' }, { ...member, roles: ['reader'] }), false);
    assert.equal(e.enforce('admin_api', {}, admin), true);
    assert.equal(e.enforce('admin_api', {}, member), false);
    assert.equal(e.enforce('admin_or_owner', { project_id: 'p1' }, member), true);
  });

  it('evaluates generic checks against the target', () => {
    assert.equal(e.enforce('owner', { user_id: 'u1' }, member), true);
    assert.equal(e.enforce('owner', { user_id: 'u2' }, member), false);
    // A target key that is missing fails the check.
    assert.equal(e.enforce('owner', {}, member), false);
    // Literal on the right.
    assert.equal(e.check('project_id:p1', {}, member), true);
    assert.equal(e.check('project_id:p2', {}, member), false);
    assert.equal(e.check('is_admin:True', {}, admin), true);
    assert.equal(e.check('is_admin:True', {}, member), false);
    assert.equal(e.check('is_admin:False', {}, member), true);
    // Credential attribute missing.
    assert.equal(e.check('domain_id:d', {}, member), false);
    // A list in the credentials matches any element.
    assert.equal(e.check('roles:reader', {}, member), true);
  });

  it('evaluates literal left-hand sides', () => {
    assert.equal(e.check("'member':%(role)s", { role: 'member' }, {}), true);
    assert.equal(e.check('"member":%(role)s', { role: 'other' }, {}), false);
    assert.equal(e.check('True:%(shared)s', { shared: true }, {}), true);
    assert.equal(e.check('True:%(shared)s', { shared: false }, {}), false);
    assert.equal(e.check('None:%(x)s', { x: null }, {}), true);
    assert.equal(e.check('42:%(n)s', { n: 42 }, {}), true);
  });

  it('resolves dotted target keys, flat or nested, and dotted credential paths', () => {
    assert.equal(e.check('user_id:%(target.user.id)s', { 'target.user.id': 'u1' }, member), true);
    assert.equal(e.check('user_id:%(target.user.id)s', { target: { user: { id: 'u1' } } }, member), true);
    assert.equal(e.check('user_id:%(target.user.id)s', { target: { user: {} } }, member), false);
    assert.equal(e.check('token.user.id:%(uid)s', { uid: 'x' }, { token: { user: { id: 'x' } } }), true);
    assert.equal(e.check('token.roles.name:%(r)s', { r: 'b' }, { token: { roles: [{ name: 'a' }, { name: 'b' }] } }), true);
  });

  it('applies operators with the right precedence', () => {
    assert.equal(e.check('role:x or role:member and role:reader', {}, member), true);
    assert.equal(e.check('(role:x or role:member) and role:y', {}, member), false);
    assert.equal(e.check('not role:admin', {}, member), true);
    assert.equal(e.check('not role:admin and role:member', {}, admin), false);
    assert.equal(e.check('not (role:admin or role:member)', {}, member), false);
  });

  it('formats values as Python would', () => {
    assert.equal(pyStr(true), 'True');
    assert.equal(pyStr(null), 'None');
    assert.equal(pyStr(3), '3');
    assert.equal(interpolate('%(a)s-%%-%(b)s', { a: 1, b: false }), '1-%-False');
    assert.equal(interpolate('%(a)s', {}), null);
  });
});

describe('createPolicy', () => {
  const defaults = [
    ...basePolicies,
    { name: 'os_compute_api:servers:index', check: 'rule:project_reader_or_admin', description: '' },
    { name: 'os_compute_api:os-hypervisors:list', check: 'rule:context_is_admin', description: '' },
  ];

  it('enforces defaults and throws Nova\'s 403', () => {
    const p = createPolicy(defaults, {});
    assert.equal(p.allowed('os_compute_api:servers:index', { project_id: 'p1' }, member), true);
    assert.equal(p.allowed('os_compute_api:os-hypervisors:list', {}, member), false);
    assert.throws(
      () => p.authorize('os_compute_api:os-hypervisors:list', {}, member),
      (err: unknown) =>
        err instanceof ApiError && err.status === 403 && err.message === "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.",
    );
    assert.doesNotThrow(() => p.authorize('os_compute_api:os-hypervisors:list', {}, admin));
  });

  it('lets overrides replace defaults and add rules', () => {
    const p = createPolicy(defaults, {
      'os_compute_api:os-hypervisors:list': 'rule:project_reader_api or rule:ops',
      ops: 'role:operator',
      context_is_admin: 'role:superuser',
    });
    assert.equal(p.allowed('os_compute_api:os-hypervisors:list', { project_id: 'p1' }, member), true);
    assert.equal(p.allowed('os_compute_api:os-hypervisors:list', {}, { roles: ['operator'] }), true);
    // context_is_admin now wants superuser: admin loses project_member_or_admin elsewhere.
    assert.equal(p.allowed('project_member_or_admin', { project_id: 'p9' }, admin), false);
    assert.equal(p.allowed('project_member_or_admin', { project_id: 'p9' }, { roles: ['superuser'] }), true);
  });

  it('accepts the legacy list syntax in an override', () => {
    const p = createPolicy(defaults, { 'os_compute_api:os-hypervisors:list': '[["role:member"], ["role:admin"]]' });
    assert.equal(p.allowed('os_compute_api:os-hypervisors:list', {}, member), true);
    assert.equal(p.allowed('os_compute_api:os-hypervisors:list', {}, { roles: ['reader'] }), false);
  });
});
