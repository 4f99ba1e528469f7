#!/usr/bin/env python3
"""Consume a Keel consumer group over HTTP with only Python's standard library.

Fetches the group's events under leases (long poll), handles each one, and acknowledges them, so the
group's offsets move on. Events of one partition key arrive in order; an event not acknowledged before its
lease expires (this process crashed, or was too slow) goes to another consumer of the group.

    python3 keel_consumer.py --url http://127.0.0.1:4000 --group billing --topic healthcare.patients.events

Each handled event is printed as one JSON line: {"id", "type", "key", "offset", "data"}.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def post(url, body, timeout):
    """POSTs JSON and returns the decoded answer; raises with the node's problem detail on an error status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json", "accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        problem = error.read().decode("utf-8", "replace")
        raise SystemExit(f"{url} answered {error.code}: {problem}") from None


def handle(leased):
    """What this service does with one event: here, print it as a JSON line."""
    event = leased["event"] or {}
    print(
        json.dumps(
            {
                "id": event.get("id"),
                "type": event.get("type"),
                "key": leased["key"],
                "offset": leased["offset"],
                "data": event.get("data"),
            }
        ),
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:4000", help="the Keel node")
    parser.add_argument("--group", required=True, help="consumer group id")
    parser.add_argument("--topic", action="append", required=True, help="topic to consume (repeat for more)")
    parser.add_argument("--max-events", type=int, default=100, help="events per fetch")
    parser.add_argument("--wait-ms", type=int, default=10000, help="long-poll wait when nothing is ready")
    parser.add_argument("--lease-ms", type=int, default=30000, help="how long a fetched event is ours")
    parser.add_argument("--stop-after", type=int, default=0, help="exit after this many events (0: never)")
    parser.add_argument("--no-ack", action="store_true", help="never acknowledge (to see leases expire)")
    args = parser.parse_args()

    base = f"{args.url.rstrip('/')}/v1/consumers/{urllib.request.quote(args.group, safe='')}"
    handled = 0
    while args.stop_after == 0 or handled < args.stop_after:
        answer = post(
            f"{base}/fetch",
            {"topics": args.topic, "maxEvents": args.max_events, "waitMs": args.wait_ms, "leaseMs": args.lease_ms},
            timeout=args.wait_ms / 1000 + 30,
        )
        events = answer["events"]
        for leased in events:
            handle(leased)
            handled += 1
        if events and not args.no_ack:
            acked = post(f"{base}/ack", {"leases": [e["lease"] for e in events]}, timeout=30)
            if acked["expired"]:
                print(f"{len(acked['expired'])} leases had expired: those events go to another consumer", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
