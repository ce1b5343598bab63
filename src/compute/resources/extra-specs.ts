import { badRequest } from '../../errors.js';
import { boolFromString, pyInt } from './common.js';

/**
 * Validation of known flavor extra specs (microversion 2.86). A subset of
 * Nova's registry: the commonly used `hw:` keys and every key of the
 * `hw_rng`, `hw_video`, `os`, `quota`, `resources*` and `trait*` namespaces.
 * As in Nova, a key without a namespace, or in a namespace we do not know,
 * passes; an unknown key inside a fully known namespace is rejected. Unknown
 * `hw:` keys pass (the registry here is not complete for that namespace).
 */

type ValueRule =
  | { type: 'int'; min?: number; max?: number }
  | { type: 'bool' }
  | { type: 'str'; pattern?: string; enum?: string[] };

interface Spec {
  /** Full-match regex of the key. */
  key: RegExp;
  value: ValueRule;
}

const GROUP = '(?:[a-zA-Z0-9_-]{1,64})?';
const CPU_MASK = '\\^?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*';

/** os-resource-classes STANDARDS. */
const STANDARD_RESOURCE_CLASSES = [
  'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF', 'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD',
  'NUMA_MEMORY_MB', 'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD', 'NET_BW_EGR_KILOBIT_PER_SEC',
  'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU', 'MEM_ENCRYPTION_CONTEXT', 'FPGA', 'PGPU',
  'NET_PACKET_RATE_KILOPACKET_PER_SEC', 'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
];

const exact = (name: string): RegExp => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const int = (min?: number, max?: number): ValueRule => ({ type: 'int', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const bool: ValueRule = { type: 'bool' };
const oneOf = (...values: string[]): ValueRule => ({ type: 'str', enum: values });
const format = (pattern: string): ValueRule => ({ type: 'str', pattern });

const SPECS: Spec[] = [
  { key: exact('hw:cpu_realtime'), value: bool },
  { key: exact('hw:cpu_realtime_mask'), value: format(`(\\^)?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*`) },
  { key: exact('hw:hide_hypervisor_id'), value: bool },
  { key: exact('hw:cpu_policy'), value: oneOf('dedicated', 'shared', 'mixed') },
  { key: exact('hw:cpu_thread_policy'), value: oneOf('prefer', 'isolate', 'require') },
  { key: exact('hw:emulator_threads_policy'), value: oneOf('isolate', 'share') },
  { key: exact('hw:cpu_dedicated_mask'), value: format(CPU_MASK) },
  { key: exact('hw:mem_page_size'), value: format('(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)') },
  { key: exact('hw:locked_memory'), value: bool },
  { key: exact('hw:numa_nodes'), value: int(1) },
  { key: /^hw:numa_cpus\.\d+$/, value: format(CPU_MASK) },
  { key: /^hw:numa_mem\.\d+$/, value: int(1) },
  { key: exact('hw:pci_numa_affinity_policy'), value: oneOf('required', 'preferred', 'legacy', 'socket') },
  ...['cpu_sockets', 'cpu_cores', 'cpu_threads', 'cpu_max_sockets', 'cpu_max_cores', 'cpu_max_threads'].map(
    (k): Spec => ({ key: exact(`hw:${k}`), value: int(1) }),
  ),
  { key: exact('hw:boot_menu'), value: bool },
  { key: exact('hw:vif_multiqueue_enabled'), value: bool },
  { key: exact('hw:mem_encryption'), value: bool },
  { key: exact('hw:pmu'), value: bool },
  { key: exact('hw:serial_port_count'), value: int(0) },
  { key: exact('hw:watchdog_action'), value: oneOf('none', 'pause', 'poweroff', 'reset', 'disabled') },
  { key: exact('hw:virtio_packed_ring'), value: bool },
  { key: exact('hw:redirected_usb_ports'), value: int(0, 15) },
  { key: exact('hw_rng:allowed'), value: bool },
  { key: exact('hw_rng:rate_bytes'), value: int(0) },
  { key: exact('hw_rng:rate_period'), value: int(0) },
  { key: exact('hw_video:ram_max_mb'), value: int(0) },
  { key: exact('os:secure_boot'), value: oneOf('disabled', 'required') },
  { key: exact('hide_hypervisor_id'), value: bool },
  { key: exact('group_policy'), value: oneOf('isolate', 'none') },
  { key: exact('accel:device_profile'), value: { type: 'str' } },
  { key: /^aggregate_instance_extra_specs:.+$/, value: { type: 'str' } },
  { key: exact('pci_passthrough:alias'), value: format('[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*') },
  ...['cpu', 'memory', 'disk_io', 'vif'].flatMap((k): Spec[] => [
    { key: exact(`quota:${k}_limit`), value: int(0) },
    { key: exact(`quota:${k}_reservation`), value: int() },
    { key: exact(`quota:${k}_shares_level`), value: oneOf('custom', 'high', 'normal', 'low') },
    { key: exact(`quota:${k}_shares_share`), value: int(0) },
  ]),
  { key: exact('quota:cpu_shares'), value: int(0) },
  { key: exact('quota:cpu_period'), value: int(0) },
  { key: exact('quota:cpu_quota'), value: int() },
  { key: /^quota:disk_(read|write|total)_(bytes|iops)_sec$/, value: int(0) },
  { key: /^quota:vif_(inbound|outbound)_(average|peak|burst)$/, value: int(0) },
  { key: new RegExp(`^resources${GROUP}:(?:${STANDARD_RESOURCE_CLASSES.join('|')}|CUSTOM_[A-Z0-9_]+)$`), value: int() },
  { key: new RegExp(`^trait${GROUP}:[A-Z0-9_]+$`), value: oneOf('required', 'forbidden') },
];

/** Namespaces in which every valid key is known here: an unknown key in them is an error. */
const CLOSED_NAMESPACES = [/^hw_rng$/, /^hw_video$/, /^os$/, /^quota$/, new RegExp(`^resources${GROUP}$`), new RegExp(`^trait${GROUP}$`)];

const fail = (msg: string): Error => badRequest(`Validation failed; ${msg}`);

function checkValue(rule: ValueRule, value: string): void {
  switch (rule.type) {
    case 'int': {
      const n = pyInt(value);
      if (n === null) throw fail(`'${value}' is not a valid integer value.`);
      if (rule.max !== undefined && rule.max < n) throw fail(`'${n}' is greater than the max value of '${rule.max}'.`);
      if (rule.min !== undefined && rule.min > n) throw fail(`'${n}' is less than the min value of '${rule.min}'.`);
      return;
    }
    case 'bool':
      if (boolFromString(value, true) === null) throw fail(`'${value}' is not a valid boolean-like value.`);
      return;
    case 'str':
      if (rule.pattern !== undefined) {
        if (!new RegExp(`^(?:${rule.pattern})$`).test(value)) throw fail(`'${value}' is not of the format '${rule.pattern}'.`);
      } else if (rule.enum !== undefined && !rule.enum.includes(value)) {
        throw fail(`'${value}' is not one of: ${rule.enum.join(', ')}.`);
      }
      return;
  }
}

/** Validates one extra spec as Nova does from 2.86; throws 400 with Nova's message. */
export function validateExtraSpec(name: string, value: string): void {
  const spec = SPECS.find((s) => s.key.test(name));
  if (spec) {
    checkValue(spec.value, value);
    return;
  }
  const colon = name.indexOf(':');
  if (colon < 0) return;
  const ns = name.slice(0, colon);
  if (CLOSED_NAMESPACES.some((re) => re.test(ns))) {
    throw fail(`extra spec '${name}' does not appear to be a valid extra spec.`);
  }
}
