import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCheck, parseListSyntax, parseStrict, PolicySyntaxError, render } from './parser.js';

const r = (s: string) => render(parseStrict(s));

describe('policy check-string parser', () => {
  it('parses atoms', () => {
    assert.deepEqual(parseStrict('role:admin'), { type: 'role', match: 'admin' });
    assert.deepEqual(parseStrict('rule:admin_api'), { type: 'rule', match: 'admin_api' });
    assert.deepEqual(parseStrict('project_id:%(project_id)s'), { type: 'generic', kind: 'project_id', match: '%(project_id)s' });
    assert.deepEqual(parseStrict('@'), { type: 'true' });
    assert.deepEqual(parseStrict('!'), { type: 'false' });
    // Only the first colon separates kind from match.
    assert.deepEqual(parseStrict('http:http://x/y'), { type: 'generic', kind: 'http', match: 'http://x/y' });
  });

  it('treats an empty or blank string as always', () => {
    assert.deepEqual(parseStrict(''), { type: 'true' });
    assert.deepEqual(parseStrict('   '), { type: 'true' });
  });

  it('gives not the highest precedence, then and, then or', () => {
    assert.equal(r('role:a or role:b and role:c'), '(role:a or (role:b and role:c))');
    assert.equal(r('role:a and role:b or role:c'), '((role:a and role:b) or role:c)');
    assert.equal(r('not role:a and role:b'), '(not role:a and role:b)');
    assert.equal(r('not role:a or not role:b and role:c'), '(not role:a or (not role:b and role:c))');
    assert.equal(r('role:a or role:b or role:c'), '(role:a or role:b or role:c)');
  });

  it('honours parentheses, glued or spaced', () => {
    assert.equal(r('(role:a or role:b) and role:c'), '((role:a or role:b) and role:c)');
    assert.equal(r('( role:a or role:b ) and role:c'), '((role:a or role:b) and role:c)');
    assert.equal(r('not (role:a or role:b)'), 'not (role:a or role:b)');
    assert.equal(r('((role:a))'), 'role:a');
    assert.equal(r('role:a and ((role:b or role:c) and not role:d)'), '(role:a and ((role:b or role:c) and not role:d))');
  });

  it('reads operators case-insensitively', () => {
    assert.equal(r('role:a AND role:b OR NOT role:c'), '((role:a and role:b) or not role:c)');
  });

  it('keeps literal generic checks', () => {
    assert.deepEqual(parseStrict("'member':%(role)s"), { type: 'generic', kind: "'member'", match: '%(role)s' });
    assert.deepEqual(parseStrict('True:%(shared)s'), { type: 'generic', kind: 'True', match: '%(shared)s' });
    assert.deepEqual(parseStrict('is_admin:True'), { type: 'generic', kind: 'is_admin', match: 'True' });
  });

  it('rejects malformed strings (and parseCheck turns them into never)', () => {
    for (const bad of ['role:a or', 'and role:a', '(role:a', 'role:a)', 'role:a role:b', 'not', 'nocolon', '()', "'str'"]) {
      assert.throws(() => parseStrict(bad), PolicySyntaxError, bad);
      assert.deepEqual(parseCheck(bad), { type: 'false' }, bad);
    }
  });

  it('reads the legacy list-of-lists syntax', () => {
    assert.equal(render(parseListSyntax([['role:a', 'role:b'], ['role:c']])), '((role:a and role:b) or role:c)');
    assert.deepEqual(parseListSyntax([]), { type: 'true' });
    assert.deepEqual(parseListSyntax([['@']]), { type: 'true' });
  });
});
