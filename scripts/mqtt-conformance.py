#!/usr/bin/env python3
"""MQTT conformance beyond piPDU's own tests: Eclipse paho.mqtt.testing's interoperability client tests
(client_test.py for MQTT 3.1.1, client_test5.py for MQTT 5) against the embedded broker and Mosquitto,
side by side, one test per process with a time limit, so a test that hangs is recorded, not fatal.

    git clone https://github.com/eclipse/paho.mqtt.testing /tmp/paho
    scripts/mqtt-conformance.py /tmp/paho/interoperability [--only test_basic,...] [--brokers embedded,mosquitto]

Prints one Markdown table (docs/mqtt-conformance.md records a run). Needs python3, node and mosquitto.
The embedded broker runs as `pipdu broker` with its defaults plus PIPDU_BROKER_RETAIN_TOPICS=#: the suite's
retained tests use topics outside piPDU's tree, which the broker otherwise delivers without retaining.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs one test of a paho module with host and port set, as the module's own __main__ block would.
RUNNER = """
import sys, unittest, logging
sys.argv = ["x"]
import {module} as m
m.host, m.port = "127.0.0.1", {port}
m.topics = ("TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA")
m.wildtopics = ("TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#")
m.nosubscribe_topics = ("test/nosubscribe",)
m.topic_prefix = "client_test5/"
logging.getLogger().setLevel(logging.ERROR)
result = unittest.TextTestRunner(verbosity=0).run(unittest.defaultTestLoader.loadTestsFromName("Test.{test}", m))
sys.exit(0 if result.wasSuccessful() else 1)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def start_broker(kind, state):
    port = free_port()
    if kind == "embedded":
        env = dict(os.environ, PIPDU_STATE_DIR=state, PIPDU_BROKER_PORT=str(port), PIPDU_BROKER_WS_PORT="0",
                   PIPDU_BROKER_RETAIN_TOPICS="#", PIPDU_LOG_LEVEL="error")
        proc = subprocess.Popen(["node", os.path.join(ROOT, "bin/pipdu.js"), "broker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        conf = os.path.join(state, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n")
            if os.getuid() == 0:
                f.write("user root\n")
        proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def tests_of(path):
    with open(path) as f:
        return re.findall(r"^    def (test_\w+)\(", f.read(), re.M)


def run_one(paho, module, test, port, limit):
    code = RUNNER.format(module=module, port=port, test=test)
    try:
        out = subprocess.run([sys.executable, "-c", code], cwd=paho, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result within {limit} s"
    if out.returncode == 0:
        return "pass", ""
    errors = [l for l in out.stderr.splitlines() if re.match(r"^(AssertionError|\w+Error|Exception)", l)]
    last = errors[-1] if errors else (out.stderr.strip().splitlines() or ["?"])[-1]
    return "fail", last[:200]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paho", help="paho.mqtt.testing/interoperability directory")
    parser.add_argument("--brokers", default="embedded,mosquitto")
    parser.add_argument("--only", default="")
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    brokers = args.brokers.split(",")
    suites = [("client_test", "3.1.1"), ("client_test5", "5")]
    results = {}
    for kind in brokers:
        state = tempfile.mkdtemp(prefix=f"conformance-{kind}-")
        proc, port = start_broker(kind, state)
        try:
            for module, version in suites:
                for test in tests_of(os.path.join(args.paho, module + ".py")):
                    if only and test not in only:
                        continue
                    if proc.poll() is not None:  # a test crashed the broker: start it again, say so
                        results[(version, test, kind)] = ("fail", "broker process exited")
                        proc, port = start_broker(kind, state)
                        continue
                    results[(version, test, kind)] = run_one(args.paho, module, test, port, args.timeout)
                    print(f"{kind} MQTT {version} {test}: {results[(version, test, kind)][0]}", file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(state, ignore_errors=True)
    print("| MQTT | test | " + " | ".join(brokers) + " |")
    print("|---|---|" + "---|" * len(brokers))
    for version, test in dict.fromkeys((v, t) for v, t, _ in results):
        cells = []
        for kind in brokers:
            status, why = results.get((version, test, kind), ("-", ""))
            cells.append((status + (f": {why}" if why else "")).replace("|", "\\|"))
        print(f"| {version} | {test} | " + " | ".join(cells) + " |")
    for kind in brokers:
        mine = [s for (v, t, k), (s, _) in results.items() if k == kind]
        print(f"\n{kind}: {mine.count('pass')} of {len(mine)} passed", end="")
    print()


if __name__ == "__main__":
    main()
