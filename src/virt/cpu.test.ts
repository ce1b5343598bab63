import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareCpu, hostCpuInfo } from './cpu.js';

const cpu = (model: string, features: string[] = []) => hostCpuInfo({ cpu_model: model, cpu_vendor: 'Intel', cpu_features: features, vcpus: 4 });

describe('CPU comparison for live migration', () => {
  it('accepts the same CPU as identical and a newer one as a superset', () => {
    assert.equal(compareCpu(cpu('Haswell', ['avx2']), cpu('Haswell', ['avx2'])), 1);
    assert.equal(compareCpu(cpu('Skylake-Server', ['avx2', 'avx512f']), cpu('Haswell', ['avx2'])), 2);
  });

  it('refuses an older model, a missing feature, another vendor or an unknown model', () => {
    assert.equal(compareCpu(cpu('Nehalem'), cpu('Haswell')), 0);
    assert.equal(compareCpu(cpu('Haswell'), cpu('Haswell', ['avx2'])), 0);
    assert.equal(compareCpu({ ...cpu('Haswell'), vendor: 'AMD' }, cpu('Haswell')), 0);
    assert.equal(compareCpu(cpu('Mystery'), cpu('Haswell')), 0);
  });
});
