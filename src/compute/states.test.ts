import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statesForStatuses, statusOf } from './states.js';

describe('status map', () => {
  it('maps defaults and task overrides', () => {
    assert.equal(statusOf('active', null), 'ACTIVE');
    assert.equal(statusOf('active', 'rebooting'), 'REBOOT');
    assert.equal(statusOf('active', 'reboot_started_hard'), 'HARD_REBOOT');
    assert.equal(statusOf('active', 'updating_password'), 'PASSWORD');
    assert.equal(statusOf('active', 'powering-off'), 'ACTIVE');
    assert.equal(statusOf('stopped', 'resize_prep'), 'RESIZE');
    assert.equal(statusOf('stopped', 'rebuild_spawning'), 'REBUILD');
    assert.equal(statusOf('resized', 'resize_reverting'), 'REVERT_RESIZE');
    assert.equal(statusOf('resized', 'resize_confirming'), 'VERIFY_RESIZE');
    assert.equal(statusOf('paused', 'migrating'), 'MIGRATING');
    assert.equal(statusOf('building', 'spawning'), 'BUILD');
    assert.equal(statusOf('error', 'rebuilding'), 'REBUILD');
    assert.equal(statusOf('soft-delete', null), 'SOFT_DELETED');
    assert.equal(statusOf('shelved_offloaded', null), 'SHELVED_OFFLOADED');
    assert.equal(statusOf('bogus', null), 'UNKNOWN');
  });

  it('reverses statuses for the list filter', () => {
    assert.deepEqual(statesForStatuses(['active']), { vmStates: ['active'], taskStates: [], anyTask: true });
    const reboot = statesForStatuses(['REBOOT']);
    assert.deepEqual(reboot.vmStates, ['active']);
    assert.equal(reboot.anyTask, false);
    assert.deepEqual(reboot.taskStates, ['reboot_pending', 'reboot_started', 'rebooting']);
    const resize = statesForStatuses(['RESIZE']);
    assert.deepEqual(resize.vmStates, ['active', 'stopped']);
    assert.deepEqual(statesForStatuses(['nonsense']), { vmStates: [], taskStates: [], anyTask: false });
  });
});
