import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { EXIT_CONFIG } from '../fail.ts';
import type { TextSink } from '../gated-stream.ts';
import { EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts';
import { createNodeClient, DEFAULT_NODE_URL, type NodeClient } from './node-client.ts';
import { OUTPUT_FORMATS, type OutputFormat } from './output.ts';

/** Environment variable holding the API key or token remote commands send (never a flag: flags show in `ps`). */
export const CREDENTIAL_ENV = 'KEEL_API_KEY';

/** The options every command that talks to a node takes. */
export interface RemoteFlags {
  url?: string;
  output?: OutputFormat;
  actor?: string;
  keyFile?: string;
}

/** What a remote command gets: the client, the chosen format and where to write. */
export interface RemoteContext {
  client: NodeClient;
  format: OutputFormat;
  stdout: TextSink;
  stderr: TextSink & { isTTY?: boolean };
}

/** Adds `--url`, `--output` and `--actor` to a command that talks to a node, and the exit codes to its help. */
export function remoteOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', `the node's address (also KEEL_URL; default ${DEFAULT_NODE_URL})`))
    .addOption(
      new Option('-o, --output <format>', 'table for people, json for scripts').choices(OUTPUT_FORMATS),
    )
    .addOption(new Option('--actor <name>', 'who acts, recorded by the node (default: $USER)'))
    .addOption(
      new Option(
        '--key-file <file>',
        `file holding the API key or OpenID Connect token to send (else ${CREDENTIAL_ENV})`,
      ),
    )
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);
}

/**
 * Runs a remote command's action and exits with its code: 0 unless it returns another, or the code that
 * names what went wrong (one line on stderr, no stack).
 */
export async function runRemote(
  flags: RemoteFlags,
  action: (context: RemoteContext) => Promise<number | undefined>,
): Promise<never> {
  const url = flags.url ?? process.env.KEEL_URL ?? DEFAULT_NODE_URL;
  const actor = flags.actor ?? process.env.USER;
  const credential = credentialOf(flags);
  const context: RemoteContext = {
    client: createNodeClient({ url, ...(actor ? { actor } : {}), ...(credential ? { credential } : {}) }),
    format: flags.output ?? 'table',
    stdout: process.stdout,
    stderr: process.stderr,
  };
  let code: number;
  try {
    code = (await action(context)) ?? 0;
  } catch (error) {
    const usage = (error as { code?: unknown }).code === 'KEEL_CLI_USAGE';
    process.stderr.write(`keel: ${(error as Error).message}\n`);
    code = usage ? EXIT_CONFIG : exitCodeFor(error);
  }
  // Let stdout drain before exiting (a pipe may still hold the output).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** The API key or token to send: the `--key-file` file's first line, else `KEEL_API_KEY`, else none. */
function credentialOf(flags: RemoteFlags): string | undefined {
  if (flags.keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.keyFile, 'utf8');
    } catch (error) {
      process.stderr.write(`keel: --key-file ${flags.keyFile}: ${(error as Error).message}\n`);
      process.exit(EXIT_CONFIG);
    }
    return text.split('\n')[0]?.trim() || undefined;
  }
  const value = process.env[CREDENTIAL_ENV]?.trim();
  return value === '' ? undefined : value;
}
