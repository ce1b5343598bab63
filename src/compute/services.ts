import { ComputeAgent } from '../agent/manager.js';
import type { NetworkModel } from '../network/model.js';
import { FakeDriver, FakeStorage } from '../virt/fake/driver.js';
import { hostCpuInfo } from '../virt/cpu.js';
import { CONDUCTOR_TOPIC, Conductor, computeTopic } from './conductor.js';
import type { ComputeDeps } from './deps.js';
import { initResources } from './resources/seed.js';
import { PeriodicTasks } from './periodic.js';
import { ServiceHeartbeat, initServices } from './os-services/repo.js';

export interface ComputeServices {
  conductor: Conductor;
  network: NetworkModel;
  agents: Map<string, ComputeAgent>;
  /** The simulated hypervisor of each host (fault injection goes through these). */
  drivers: Map<string, FakeDriver>;
  /** Periodic tasks (reclaim of soft-deleted servers, shelved offload) on the injected clock. */
  periodic: PeriodicTasks;
  /** Service heartbeats (os-services up/down); `pause(host)` simulates a dead compute. */
  heartbeat: ServiceHeartbeat;
  /** A compute host fails: guests lost, calls time out, casts wait, no heartbeat (simulated hypervisors). */
  hostDown(host: string): void;
  /** The failed host starts again: heartbeat, then (as bus work) restart recovery and the casts that waited. */
  hostUp(host: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the control plane behind the API: the network model, the conductor
 * (with the scheduler) and one compute service per configured host, each
 * serving its topic on the bus. Restart recovery runs here.
 */
export async function startComputeServices(deps: ComputeDeps, network: NetworkModel): Promise<ComputeServices> {
  const { config, clock, bus, db, log } = deps;
  await initResources(deps);
  await initServices(deps);
  const heartbeat = new ServiceHeartbeat(deps);
  heartbeat.start();
  const conductor = new Conductor(deps);
  bus.serve(CONDUCTOR_TOPIC, conductor.handle);
  const agents = new Map<string, ComputeAgent>();
  const drivers = new Map<string, FakeDriver>();
  const stepMs = config.compute.timing === 'instant' ? 0 : config.compute.step_ms;
  // Hosts of one shared_storage group see the same instance storage.
  const storages = new Map<string, FakeStorage>();
  for (const h of config.compute.hosts) {
    let storage: FakeStorage | undefined;
    if (h.shared_storage !== undefined) {
      storage = storages.get(h.shared_storage) ?? new FakeStorage();
      storages.set(h.shared_storage, storage);
    }
    const driver = new FakeDriver({
      clock,
      stepMs,
      resources: {
        vcpus: h.vcpus,
        memoryMb: h.memory_mb,
        diskGb: h.disk_gb,
        hypervisorType: 'fake',
        hypervisorVersion: 1000,
        cpuInfo: { ...hostCpuInfo(h) },
      },
      ...(storage ? { storage } : {}),
      peers: drivers,
    });
    // imageService: snapshots, backups and shelve upload through it (src/agent/actions/snapshot.ts imagesOf).
    const agentDeps = { host: h.name, db, clock, log: log.child({ host: h.name }), network, driver, imageService: deps.imageService, bus };
    const agent = new ComputeAgent(agentDeps);
    bus.serve(computeTopic(h.name), agent.handle);
    agents.set(h.name, agent);
    drivers.set(h.name, driver);
  }
  // Every host serves its topic before any recovers, so that one host's recovery can reach another.
  for (const agent of agents.values()) await agent.init();
  await conductor.recover();
  const periodic = new PeriodicTasks(deps);
  periodic.start();
  return {
    conductor,
    network,
    agents,
    drivers,
    periodic,
    heartbeat,
    hostDown: (host) => {
      const agent = agents.get(host);
      if (!agent) throw new Error(`no compute host ${host}`);
      agent.hostDown();
      heartbeat.pause(host);
    },
    hostUp: async (host) => {
      const agent = agents.get(host);
      if (!agent) throw new Error(`no compute host ${host}`);
      heartbeat.resume(host);
      await heartbeat.tick();
      if (agent.isDown) bus.cast(computeTopic(host), 'host_up', {});
    },
    stop: () => {
      periodic.stop();
      heartbeat.stop();
      return bus.drain();
    },
  };
}
