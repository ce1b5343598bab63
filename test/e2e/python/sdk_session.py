"""The user session through openstacksdk (python3-openstacksdk).

Usage: sdk_session.py CLOUD TAG PUBLIC_KEY_FILE [COMPUTE_API_VERSION]

Prints one JSON object per step ({"step", "ok", ...}); a step whose
prerequisites failed is reported as not run. Exits 1 when any step failed. Without COMPUTE_API_VERSION the SDK negotiates each
request's microversion; with it, every compute request uses that version.
"""
import json
import sys
import traceback

import openstack

cloud, tag, pubkey_file = sys.argv[1:4]
version = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None


def report(step, ok, **extra):
    print(json.dumps({"step": step, "ok": ok, **extra}), flush=True)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


state = {}


def connect():
    kwargs = {"compute_api_version": version} if version else {}
    conn = openstack.connect(cloud=cloud, **kwargs)
    conn.authorize()
    state["conn"] = conn
    return {"project_id": conn.current_project_id}


def flavors():
    names = {f.name: f for f in state["conn"].compute.flavors()}
    check("m1.tiny" in names, "m1.tiny not in %s" % sorted(names))
    state["flavor"] = names["m1.tiny"]
    return {"count": len(names)}


def images():
    names = {i.name: i for i in state["conn"].image.images()}
    check("cirros" in names, "cirros not in %s" % sorted(n or "" for n in names))
    state["image"] = names["cirros"]
    return {"count": len(names)}


def keypair():
    with open(pubkey_file) as f:
        public_key = f.read().strip()
    kp = state["conn"].compute.create_keypair(name="sdk-k1-" + tag, public_key=public_key)
    check(kp.name == "sdk-k1-" + tag, "keypair name %r" % kp.name)
    check(kp.fingerprint, "keypair has no fingerprint")
    state["keypair"] = kp
    return {"fingerprint": kp.fingerprint}


def create():
    conn = state["conn"]
    server = conn.compute.create_server(
        name="sdk-web1-" + tag,
        flavor_id=state["flavor"].id,
        image_id=state["image"].id,
        key_name=state["keypair"].name,
        networks="auto",
    )
    check(server.id, "no server id")
    state["server"] = server
    return {"id": server.id}


def wait_active():
    server = state["conn"].compute.wait_for_server(state["server"], status="ACTIVE", interval=1, wait=120)
    check(server.status == "ACTIVE", "status %s" % server.status)
    return {"status": server.status}


def get():
    server = state["conn"].compute.get_server(state["server"].id)
    check(server.name == "sdk-web1-" + tag, "name %r" % server.name)
    check(server.status == "ACTIVE", "status %s" % server.status)
    check(server.key_name == state["keypair"].name, "key_name %r" % server.key_name)
    return {"vm_state": server.vm_state, "host": server.hypervisor_hostname}


def listing():
    ids = [s.id for s in state["conn"].compute.servers(details=True)]
    check(state["server"].id in ids, "server missing from servers/detail")
    return {"count": len(ids)}


def update():
    conn = state["conn"]
    conn.compute.update_server(state["server"], name="sdk-web2-" + tag, description="x")
    conn.compute.set_server_metadata(state["server"], role="db")
    server = conn.compute.get_server(state["server"].id)
    check(server.name == "sdk-web2-" + tag, "name %r" % server.name)
    check(server.description == "x", "description %r" % server.description)
    check(server.metadata.get("role") == "db", "metadata %r" % server.metadata)
    return {"name": server.name}


def delete():
    conn = state["conn"]
    conn.compute.delete_server(state["server"])
    conn.compute.wait_for_delete(state["server"], interval=1, wait=120)
    check(conn.compute.find_server(state["server"].id) is None, "server still found after delete")
    return {}


def delete_keypair():
    state["conn"].compute.delete_keypair(state["keypair"], ignore_missing=False)
    return {}


# (name, function, steps it needs)
STEPS = [
    ("connect", connect, []),
    ("flavors", flavors, ["connect"]),
    ("images", images, ["connect"]),
    ("keypair create", keypair, ["connect"]),
    ("server create", create, ["flavors", "images", "keypair create"]),
    ("wait_for_server", wait_active, ["server create"]),
    ("server get", get, ["wait_for_server"]),
    ("server list", listing, ["wait_for_server"]),
    ("server update", update, ["wait_for_server"]),
    ("server delete", delete, ["server create"]),
    ("keypair delete", delete_keypair, ["keypair create"]),
]

passed = set()
failed = False
for name, fn, needs in STEPS:
    missing = [n for n in needs if n not in passed]
    if missing:
        report(name, False, error="not run: needs %s" % ", ".join(missing))
        failed = True
        continue
    try:
        report(name, True, **(fn() or {}))
        passed.add(name)
    except Exception as exc:  # report any failure as this step's
        report(name, False, error="%s: %s" % (type(exc).__name__, exc), trace=traceback.format_exc(limit=4))
        failed = True
sys.exit(1 if failed else 0)
