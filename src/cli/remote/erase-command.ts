import type { Command } from 'commander';
import { print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';

interface ErasureAnswer {
  subject: string;
  keysDestroyed: number;
  actor: string | null;
}

/** Adds `keel erase --subject <id>`: crypto-shredding of one subject on a running node. */
export function registerEraseCommand(program: Command): void {
  remoteOptions(
    program
      .command('erase')
      .description(
        "destroy a subject's data keys: its events stay, their sensitive fields read [redacted] for good",
      )
      .requiredOption('--subject <id>', 'whose personal data to erase, e.g. patient-123')
      .option('--reason <text>', 'why, recorded by the node'),
  ).action((flags: RemoteFlags & { subject: string; reason?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const body = {
        subject: flags.subject,
        ...(flags.reason === undefined ? {} : { reason: flags.reason }),
      };
      const answer = await client.json<ErasureAnswer>('POST', '/v1/erasures', { body });
      print(
        stdout,
        format,
        answer,
        () =>
          `erased ${answer.subject}: ${answer.keysDestroyed} data key${answer.keysDestroyed === 1 ? '' : 's'} destroyed\n`,
      );
      return 0;
    }),
  );
}
