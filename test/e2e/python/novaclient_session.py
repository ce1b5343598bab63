"""Lists servers through python-novaclient at 2.latest (python3-novaclient).

Usage: novaclient_session.py CLOUD TAG

Authenticates with the clouds.yaml entry CLOUD, negotiates 2.latest with the
server (the lower of novaclient's and the cloud's maximum), boots a server,
lists servers, and deletes it. Prints one JSON object per step and exits 1 at
the first failing step.
"""
import json
import sys
import time
import traceback

import openstack.config
from novaclient import api_versions, client

cloud, tag = sys.argv[1:3]
state = {}


def report(step, ok, **extra):
    print(json.dumps({"step": step, "ok": ok, **extra}), flush=True)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def poll(fn, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for " + what)


def connect():
    region = openstack.config.OpenStackConfig().get_one(cloud=cloud)
    session = region.get_session()
    probe = client.Client(api_versions.APIVersion("2.1"), session=session, region_name=region.region_name)
    version = api_versions.discover_version(probe, api_versions.APIVersion("2.latest"))
    state["nova"] = client.Client(version, session=session, region_name=region.region_name)
    return {"version": version.get_string()}


def boot():
    nova = state["nova"]
    flavor = nova.flavors.find(name="m1.tiny")
    images = [i for i in nova.glance.list() if i.name == "cirros"]
    check(images, "no cirros image")
    server = nova.servers.create("nova-web1-" + tag, images[0].id, flavor.id, nics="auto")
    state["server"] = server
    poll(lambda: nova.servers.get(server.id).status == "ACTIVE", "ACTIVE")
    return {"id": server.id}


def listing():
    servers = state["nova"].servers.list()
    names = [s.name for s in servers]
    check("nova-web1-" + tag in names, "server missing from %s" % names)
    return {"count": len(servers)}


def delete():
    nova = state["nova"]
    nova.servers.delete(state["server"].id)

    def gone():
        return all(s.id != state["server"].id for s in nova.servers.list())

    poll(gone, "delete")
    return {}


for name, fn in [("connect", connect), ("boot", boot), ("servers.list", listing), ("delete", delete)]:
    try:
        report(name, True, **(fn() or {}))
    except Exception as exc:  # report any failure as this step's
        report(name, False, error="%s: %s" % (type(exc).__name__, exc), trace=traceback.format_exc(limit=4))
        sys.exit(1)
