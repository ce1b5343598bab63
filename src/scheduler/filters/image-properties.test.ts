import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostState, requestSpec } from '../../../test/helpers/scheduler.js';
import { imagePropertiesFilter } from './image-properties.js';

const x86 = hostState('x86', { supportedInstances: [['x86_64', 'fake', 'hvm']] });
const arm = hostState('arm', { supportedInstances: [['aarch64', 'fake', 'hvm']] });

describe('ImagePropertiesFilter', () => {
  it('lets an image without requirements go anywhere', () => {
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec()), true);
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: {} })), true);
  });

  it('matches the architecture, with Nova\'s aliases', () => {
    assert.equal(imagePropertiesFilter.passes(arm, requestSpec({ image: { architecture: 'aarch64' } })), true);
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: { architecture: 'aarch64' } })), false);
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: { architecture: 'AMD64' } })), true);
  });

  it('matches the hypervisor type and the vm mode', () => {
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: { hypervisorType: 'fake', vmMode: 'hvm' } })), true);
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: { hypervisorType: 'kvm' } })), false);
    assert.equal(imagePropertiesFilter.passes(x86, requestSpec({ image: { vmMode: 'xen' } })), false);
  });

  it('refuses a host that reports nothing it supports when the image asks', () => {
    assert.equal(imagePropertiesFilter.passes(hostState('bare'), requestSpec({ image: { architecture: 'x86_64' } })), false);
  });
});
