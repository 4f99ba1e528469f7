import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EXIT_INCOMPLETE } from './exit-codes.ts';
import { followJob } from './follow-job.ts';
import { formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

interface SubscriptionView {
  name: string;
  url: string;
  mode: string;
  status: string;
  disabledReason: string | null;
  endpoint: string;
  deadLetters: string;
  running: { inFlight: number } | null;
}
interface AttemptView {
  id: number;
  eventId: string;
  eventType: string;
  kind: string;
  outcome: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
  excerpt: string;
  at: string;
}
type SpecFlags = {
  endpoint: string;
  secret?: string;
  types?: string;
  tenant?: string;
  source?: string;
  condition?: string;
  mode?: string;
  policy?: string;
};

const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

/** The flags that make a subscription's spec. */
function specFlags(command: Command): Command {
  return command
    .requiredOption('--endpoint <url>', 'endpoint the events are POSTed to')
    .option(
      '--secret <whsec>',
      'Standard Webhooks signing secret (whsec_<base64>); default: a new one, printed',
    )
    .option('--types <types>', 'event types, comma-separated; default every type')
    .option('--tenant <id>', 'only events of this tenant')
    .option('--source <uri>', 'only events of this source')
    .option('--condition <cel>', 'a CEL condition over event and data')
    .option('--mode <mode>', 'binary | structured (CloudEvents HTTP binding)')
    .option('--policy <json>', 'delivery policy as JSON, e.g. {"maxAttempts":5,"ordering":"none"}');
}

/** The request body of a spec, from the flags. */
function specOf(flags: SpecFlags, secret: string): Record<string, unknown> {
  let policy: unknown;
  if (flags.policy !== undefined) {
    try {
      policy = JSON.parse(flags.policy);
    } catch {
      throw new CliUsageError(`--policy is not JSON: ${flags.policy}`);
    }
  }
  const filter = {
    ...(flags.types ? { types: flags.types.split(',').map((t) => t.trim()) } : {}),
    ...(flags.tenant ? { tenant: flags.tenant } : {}),
    ...(flags.source ? { source: flags.source } : {}),
    ...(flags.condition ? { condition: flags.condition } : {}),
  };
  return {
    url: flags.endpoint,
    secret,
    filter,
    ...(flags.mode ? { mode: flags.mode } : {}),
    ...(policy === undefined ? {} : { policy }),
  };
}

const subscriptionLine = (s: SubscriptionView) =>
  `${s.name} ${s.status}${s.disabledReason ? ` (${s.disabledReason})` : ''} → ${s.url} [endpoint ${s.endpoint}; dead letters: ${s.deadLetters}]\n`;

/** Adds `keel subscriptions list|show|create|replace|delete|enable|disable|attempts|replay`. */
export function registerSubscriptionCommands(program: Command): void {
  const subscriptions = program
    .command('subscriptions')
    .description('push subscriptions: events POSTed to HTTP endpoints by a running node');
  registerReads(subscriptions);
  registerChanges(subscriptions);
  registerHistory(subscriptions);
}

function registerReads(subscriptions: Command): void {
  remoteOptions(subscriptions.command('list').description('every subscription and its state')).action(
    (flags: RemoteFlags) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const { items } = await client.json<{ items: SubscriptionView[] }>('GET', path('subscriptions'));
        print(stdout, format, items, () =>
          formatTable(
            items,
            [
              { header: 'name', value: (s) => s.name },
              { header: 'status', value: (s) => s.status },
              { header: 'endpoint', value: (s) => s.endpoint },
              { header: 'in flight', value: (s) => s.running?.inFlight ?? 0, numeric: true },
              { header: 'url', value: (s) => s.url },
            ],
            'no subscriptions',
          ),
        );
        return undefined;
      }),
  );
  remoteOptions(subscriptions.command('show <name>').description('one subscription, as JSON')).action(
    (name: string, flags: RemoteFlags) =>
      runRemote(flags, async ({ client, stdout }) => {
        const subscription = await client.json<unknown>('GET', path('subscriptions', name));
        stdout.write(`${JSON.stringify(subscription, null, 2)}\n`);
        return undefined;
      }),
  );
}

function registerChanges(subscriptions: Command): void {
  remoteOptions(
    specFlags(
      subscriptions.command('create <name>').description('create a subscription: events from now on'),
    ),
  ).action((name: string, flags: RemoteFlags & SpecFlags) =>
    runRemote(flags, async ({ client, format, stdout, stderr }) => {
      const secret = flags.secret ?? `whsec_${randomBytes(32).toString('base64')}`;
      const created = await client.json<SubscriptionView>('POST', path('subscriptions'), {
        body: { name, ...specOf(flags, secret) },
      });
      if (flags.secret === undefined) stderr.write(`signing secret (shown once): ${secret}\n`);
      print(stdout, format, created, () => subscriptionLine(created));
      return undefined;
    }),
  );
  remoteOptions(
    specFlags(subscriptions.command('replace <name>').description("replace a subscription's spec")),
  ).action((name: string, flags: RemoteFlags & SpecFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      if (flags.secret === undefined)
        throw new CliUsageError('replace needs --secret (the node never shows it)');
      const replaced = await client.json<SubscriptionView>('PUT', path('subscriptions', name), {
        body: specOf(flags, flags.secret),
      });
      print(stdout, format, replaced, () => subscriptionLine(replaced));
      return undefined;
    }),
  );
  remoteOptions(subscriptions.command('delete <name>').description('stop and forget a subscription')).action(
    (name: string, flags: RemoteFlags) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const answer = await client.json<{ name: string }>('DELETE', path('subscriptions', name));
        print(stdout, format, answer, () => `deleted ${answer.name}\n`);
        return undefined;
      }),
  );
  remoteOptions(
    subscriptions
      .command('disable <name>')
      .alias('pause')
      .description('stop delivering (enable resumes where it stopped)')
      .requiredOption('--reason <text>', 'why it is disabled'),
  ).action((name: string, flags: RemoteFlags & { reason: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const answer = await client.json<SubscriptionView>('POST', path('subscriptions', name, 'disable'), {
        body: { reason: flags.reason },
      });
      print(stdout, format, answer, () => subscriptionLine(answer));
      return undefined;
    }),
  );
  remoteOptions(
    subscriptions
      .command('enable <name>')
      .alias('resume')
      .description('deliver a disabled subscription again'),
  ).action((name: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const answer = await client.json<SubscriptionView>('POST', path('subscriptions', name, 'enable'));
      print(stdout, format, answer, () => subscriptionLine(answer));
      return undefined;
    }),
  );
}

function registerHistory(subscriptions: Command): void {
  remoteOptions(
    subscriptions
      .command('attempts <name>')
      .description('delivery attempts, newest first')
      .option('--event-id <id>', 'only the attempts at this event')
      .option('--outcome <outcome>', 'delivered | failed | gone')
      .option('--limit <n>', 'attempts to show', '50'),
  ).action((name: string, flags: RemoteFlags & { eventId?: string; outcome?: string; limit: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: AttemptView[] }>(
        'GET',
        path('subscriptions', name, 'attempts'),
        {
          query: { eventId: flags.eventId, outcome: flags.outcome, limit: flags.limit },
        },
      );
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'at', value: (a) => a.at },
            { header: 'event', value: (a) => a.eventId },
            { header: 'kind', value: (a) => a.kind },
            { header: 'outcome', value: (a) => a.outcome },
            { header: 'status', value: (a) => a.status ?? '-' },
            { header: 'ms', value: (a) => a.latencyMs, numeric: true },
            { header: 'answer', value: (a) => (a.error ?? a.excerpt).slice(0, 60) },
          ],
          `no attempts for ${name}`,
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    subscriptions
      .command('replay <name>')
      .description('re-deliver the events appended in a time range, as a job')
      .requiredOption('--from <time>', 'ISO time: events appended at or after')
      .requiredOption('--to <time>', 'ISO time: events appended before'),
  ).action((name: string, flags: RemoteFlags & { from: string; to: string }) =>
    runRemote(flags, async ({ client, format, stdout, stderr }) => {
      const started = await client.json<{ id: string }>('POST', path('subscriptions', name, 'replay'), {
        body: { from: flags.from, to: flags.to },
      });
      const job = await followJob(client, started.id, stderr);
      const counts = Object.entries(job.counts ?? {}).map(([k, v]) => `${v} ${k}`);
      print(
        stdout,
        format,
        job,
        () => `job ${job.id} ${job.status}: ${counts.join(', ') || 'nothing matched'}\n`,
      );
      return job.status === 'succeeded' ? undefined : EXIT_INCOMPLETE;
    }),
  );
}
