import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatFields, formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

interface InstanceSummary {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  status: string;
  step: string | null;
  slaState: string;
  startedAt: string;
}
interface InstanceView {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  status: string;
  currentStep: string | null;
  error: { message: string } | null;
  startedAt: string;
  endedAt: string | null;
  slaDeadline: string | null;
  slaBreached: boolean;
  timeline: {
    steps: Array<{
      name: string;
      status: string;
      attempts: Array<{
        attempt: number;
        startedAt: string | null;
        endedAt: string | null;
        outcome?: string;
        error?: { message?: string } | null;
      }>;
    }>;
    timers: Array<{ kind: string; step: string | null; dueAt: string }>;
    signals: Array<{ name: string; receivedAt: string; consumedBy: string | null }>;
  };
}

const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

/** The timeline as lines: each step with its attempts, then timers and signals. */
function timelineText(view: InstanceView): string {
  const lines: string[] = [];
  for (const step of view.timeline.steps) {
    lines.push(`${step.status.padEnd(12)} ${step.name}`);
    for (const attempt of step.attempts) {
      lines.push(
        `             attempt ${attempt.attempt}: ${attempt.startedAt ?? '-'} → ${attempt.endedAt ?? 'running'}${attempt.outcome ? ` ${attempt.outcome}` : ''}${attempt.error?.message ? ` (${attempt.error.message})` : ''}`,
      );
    }
  }
  for (const timer of view.timeline.timers)
    lines.push(`timer        ${timer.kind}${timer.step ? ` of ${timer.step}` : ''} due ${timer.dueAt}`);
  for (const signal of view.timeline.signals)
    lines.push(
      `signal       ${signal.name} at ${signal.receivedAt}${signal.consumedBy ? ` → ${signal.consumedBy}` : ' (waiting)'}`,
    );
  return `${lines.join('\n')}\n`;
}

/** Adds `keel workflows list|show|signal|cancel|retry`. */
export function registerWorkflowCommands(program: Command): void {
  const workflows = program.command('workflows').description("a running node's workflow instances");
  remoteOptions(
    workflows
      .command('list')
      .description('instances, filtered by status, definition and SLA state')
      .option('--status <status>', 'running, completed, failed, compensated, cancelled, ...')
      .option('--definition <id>', 'one workflow definition')
      .option('--sla <state>', 'on-time | at-risk | breached | none')
      .option('--tenant <tenant>', 'one tenant'),
  ).action((flags: RemoteFlags & { status?: string; definition?: string; sla?: string; tenant?: string }) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const page = await client.json<{ items: InstanceSummary[] }>('GET', '/v1/workflows/instances', {
        query: {
          status: flags.status,
          definition: flags.definition,
          sla: flags.sla,
          tenant: flags.tenant,
          limit: 500,
        },
      });
      print(stdout, format, page.items, () =>
        formatTable(
          page.items,
          [
            { header: 'instance', value: (i) => i.instanceId },
            { header: 'workflow', value: (i) => `${i.workflowId}@${i.workflowVersion}` },
            { header: 'status', value: (i) => i.status },
            { header: 'step', value: (i) => i.step },
            { header: 'sla', value: (i) => i.slaState },
            { header: 'started', value: (i) => i.startedAt },
          ],
          'no workflow instances match',
        ),
      );
      return undefined;
    }),
  );
  remoteOptions(
    workflows.command('show <instanceId>').description("one instance's state and step timeline"),
  ).action((instanceId: string, flags: RemoteFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      const view = await client.json<InstanceView>('GET', path('workflows', 'instances', instanceId));
      print(stdout, format, view, () =>
        [
          formatFields([
            ['instance', view.instanceId],
            ['workflow', `${view.workflowId}@${view.workflowVersion}`],
            ['status', view.status],
            ['step', view.currentStep],
            ['started', view.startedAt],
            ['ended', view.endedAt],
            [
              'sla',
              view.slaDeadline ? `${view.slaDeadline}${view.slaBreached ? ' (breached)' : ''}` : 'none',
            ],
            ['error', view.error?.message],
          ]),
          timelineText(view),
        ].join('\n'),
      );
      return undefined;
    }),
  );
  remoteOptions(
    workflows
      .command('signal <instanceId> <name>')
      .description('send a signal to an instance')
      .option('--payload <json>', 'the payload, as JSON')
      .option('--payload-file <file>', 'the payload, from a JSON file'),
  ).action(
    (instanceId: string, name: string, flags: RemoteFlags & { payload?: string; payloadFile?: string }) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const text =
          flags.payloadFile === undefined ? flags.payload : readFileSync(flags.payloadFile, 'utf8');
        let payload: unknown;
        try {
          payload = text === undefined ? undefined : JSON.parse(text);
        } catch (error) {
          throw new CliUsageError(`--payload: not JSON (${(error as Error).message})`);
        }
        const answer = await client.json<{ action: string }>(
          'POST',
          path('workflows', 'instances', instanceId, 'signal'),
          {
            body: payload === undefined ? { name } : { name, payload },
          },
        );
        print(stdout, format, answer, () => `signal ${name} sent to ${instanceId}\n`);
        return undefined;
      }),
  );
  for (const [action, description] of [
    ['cancel', 'cancel an instance: its completed steps are compensated'],
    ['retry', 'retry the failing compensation of an instance that needs an operator'],
  ] as const) {
    const command = workflows.command(`${action} <instanceId>`).description(description);
    if (action === 'cancel') command.requiredOption('--reason <text>', 'why it is cancelled');
    remoteOptions(command).action((instanceId: string, flags: RemoteFlags & { reason?: string }) =>
      runRemote(flags, async ({ client, format, stdout }) => {
        const answer = await client.json<{ action: string }>(
          'POST',
          path('workflows', 'instances', instanceId, action),
          {
            body: action === 'cancel' ? { reason: flags.reason } : {},
          },
        );
        print(stdout, format, answer, () => `${instanceId}: ${answer.action}\n`);
        return undefined;
      }),
    );
  }
}
