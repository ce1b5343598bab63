import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateFaultFormat, renderFault } from './errors.js';

describe('Glance fault rendering', () => {
  it('negotiates like webob: HTML by default and on ties, JSON when preferred, else plain text', () => {
    assert.equal(negotiateFaultFormat(undefined), 'html');
    assert.equal(negotiateFaultFormat('*/*'), 'html');
    assert.equal(negotiateFaultFormat('application/json'), 'json');
    assert.equal(negotiateFaultFormat('application/json, text/html;q=0.5'), 'json');
    assert.equal(negotiateFaultFormat('text/html, application/json'), 'html');
    assert.equal(negotiateFaultFormat('text/plain'), 'plain');
  });

  it('renders the JSON, HTML and plain text bodies', () => {
    const json = renderFault(404, 'No image found with ID x', 'application/json');
    assert.deepEqual(JSON.parse(json.body), { message: 'No image found with ID x<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' });
    assert.equal(json.contentType, 'application/json');
    const plain = renderFault(403, 'Nope', 'text/plain');
    assert.equal(plain.body, '403 Forbidden\n\nNope\n\n   ');
    const html = renderFault(400, '<b>', undefined);
    assert.match(html.body, /<title>400 Bad Request<\/title>/);
    assert.match(html.body, /&lt;b&gt;<br \/><br \/>/);
  });
});
