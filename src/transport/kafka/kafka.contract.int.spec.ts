import { describeTransportContract } from '../contract/transport-contract.ts';
import { kafkaTestHarness } from './test-support/kafka-test-cluster.ts';

// Two transports are two sets of connections, as two processes would have; `crash` drops one's sockets
// without a LeaveGroup, so the coordinator expires its members after their session timeout.
describeTransportContract('kafka (3-broker KRaft cluster)', async () => {
  // Short heartbeats: members notice rebalances on their next heartbeat, and tests wait for many.
  const harness = kafkaTestHarness('contract', { consumer: { heartbeatIntervalMs: 250 } });
  return {
    transport: harness.open(),
    connect: async () => {
      const transport = harness.open();
      return { transport, crash: () => transport.abort() };
    },
    topicName: (label) => harness.topic(label),
    groupName: (label) => harness.group(label),
    sessionTimeoutMs: 3_000,
    cleanup: () => harness.cleanup(),
  };
});
