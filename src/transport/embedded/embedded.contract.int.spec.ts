import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTransportContract } from '../contract/transport-contract.ts';
import type { EmbeddedTransport } from './embedded-transport.ts';
import { createEmbeddedTransport } from './embedded-transport.ts';

// Two transports on one file are two connections, exactly what two processes would have.
describeTransportContract('embedded (SQLite file, two connections)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-contract-'));
  const path = join(dir, 'log.db');
  const opened: EmbeddedTransport[] = [];
  const open = (): EmbeddedTransport => {
    const transport = createEmbeddedTransport({ path });
    opened.push(transport);
    return transport;
  };
  let sequence = 0;
  return {
    transport: open(),
    connect: async () => {
      const transport = open();
      return {
        transport,
        crash: async () => {
          transport.abort();
        },
      };
    },
    topicName: (label) => `${label}-${++sequence}`,
    groupName: (label) => `group-${label}-${++sequence}`,
    sessionTimeoutMs: 600,
    cleanup: async () => {
      await Promise.allSettled(opened.map((transport) => transport.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
});
