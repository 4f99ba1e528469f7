#!/usr/bin/python3
"""A service written with Debian's python3-confluent-kafka that speaks CloudEvents in Kafka binary mode.

It consumes `--count` events from `--in-topic` in consumer group `--group`, prints each as a JSON line,
and for each publishes a follow-up event to `--out-topic` that carries the consumed event's correlation id,
its id as causation id, and its trace (same trace id, a new span id) — the CloudEvents Kafka binding, binary
mode: `ce_` headers, the data as the value, the partition key as the message key.
"""

import argparse
import json
import os
import sys
import uuid

from confluent_kafka import Consumer, Producer


def headers_of(message):
    return {name: value.decode("utf-8") for name, value in (message.headers() or [])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--in-topic", required=True)
    parser.add_argument("--out-topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    producer = Producer({"bootstrap.servers": args.brokers, "enable.idempotence": True})
    consumer.subscribe([args.in_topic])
    seen = 0
    while seen < args.count:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            raise SystemExit(f"consume failed: {message.error()}")
        headers = headers_of(message)
        data = json.loads(message.value())
        print(
            json.dumps(
                {
                    "id": headers["ce_id"],
                    "type": headers["ce_type"],
                    "source": headers["ce_source"],
                    "specversion": headers["ce_specversion"],
                    "key": message.key().decode("utf-8") if message.key() else None,
                    "correlationid": headers.get("ce_correlationid"),
                    "traceparent": headers.get("ce_traceparent"),
                    "data": data,
                }
            ),
            flush=True,
        )
        trace_id = headers["ce_traceparent"].split("-")[1]
        reply = {"key": data["key"], "seq": data["seq"] + 1000}
        producer.produce(
            args.out_topic,
            key=data["key"].encode("utf-8"),
            value=json.dumps(reply).encode("utf-8"),
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_id", str(uuid.uuid4()).encode("utf-8")),
                ("ce_source", b"urn:python:confluent-kafka"),
                ("ce_type", headers["ce_type"].encode("utf-8")),
                ("ce_partitionkey", data["key"].encode("utf-8")),
                ("ce_correlationid", headers["ce_correlationid"].encode("utf-8")),
                ("ce_causationid", headers["ce_id"].encode("utf-8")),
                ("ce_traceparent", f"00-{trace_id}-{os.urandom(8).hex()}-01".encode("utf-8")),
                ("content-type", b"application/json"),
            ],
        )
        consumer.commit(message=message, asynchronous=False)
        seen += 1
    producer.flush(30)
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
