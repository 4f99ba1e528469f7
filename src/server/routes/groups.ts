import { z } from 'zod';
import type { GroupAdmin, GroupResetTarget } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';
import { actorOf } from '../api/actor.ts';
import { cursorParam, limitParam, pageOfList, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { existingGroup, groupDetailSchema, groupSummarySchema, groupView } from '../groups/group-views.ts';
import { commitsOf, planReset } from '../groups/reset-plan.ts';
import { existingTopic } from '../topics/topic-views.ts';

/** What the group routes use. */
export interface GroupRoutesOptions {
  transport: Transport;
  groupAdmin: GroupAdmin;
}

const groupParam = z.strictObject({ group: z.string().min(1).describe('Consumer group id.') });
const digits = z.string().regex(/^\d+$/);

const resetBody = z.strictObject({
  topic: z.string().min(1).describe('Topic whose committed offsets move.'),
  to: z
    .union([
      z.enum(['earliest', 'latest']),
      z.strictObject({ offset: digits.describe('Offset, clamped into each partition’s log.') }),
      z.strictObject({
        time: z.iso.datetime({ offset: true }).describe('First record at or after this time.'),
      }),
    ])
    .describe('`earliest`, `latest`, `{ "offset": "42" }` or `{ "time": "2026-01-01T00:00:00Z" }`.'),
  partitions: z.array(z.int().min(0)).min(1).optional().describe('Partitions to move; all when absent.'),
  dryRun: z.boolean().default(false).describe('Show the change without making it.'),
  reason: z.string().max(500).optional().describe('Why, for the record.'),
});

const resetAnswer = z.object({
  group: z.string(),
  topic: z.string(),
  dryRun: z.boolean(),
  applied: z.boolean().describe('The offsets were moved (false for a dry run).'),
  live: z.boolean().describe('The group has live members (a real reset is then refused with 409).'),
  actor: z.string().nullable(),
  changes: z.array(
    z.object({
      partition: z.int(),
      from: digits.nullable(),
      to: digits,
      lagBefore: digits,
      lagAfter: digits,
    }),
  ),
});

/** Registers `GET /v1/groups`, `GET /v1/groups/:group` and `POST /v1/groups/:group/reset`. */
export function registerGroupRoutes(api: ApiRegistry, options: GroupRoutesOptions): void {
  const { transport, groupAdmin } = options;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/groups',
      operationId: 'listGroups',
      summary: 'List consumer groups with state, members, and lag per partition and in total',
      tag: 'groups',
      query: z.strictObject({
        prefix: z.string().min(1).optional().describe('Only groups whose id starts with this.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(groupSummarySchema),
      handler: async ({ query }) => {
        const groups = (await groupAdmin.listGroups()).filter((group) =>
          group.startsWith(query.prefix ?? ''),
        );
        const page = pageOfList(groups, (group) => group, query);
        const items = [];
        for (const group of page.items) {
          const info = await groupAdmin.describeGroup(group);
          if (info === undefined) continue;
          const { memberList: _members, ...summary } = await groupView(transport, info);
          items.push(summary);
        }
        return { items, next: page.next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/groups/:group',
      operationId: 'getGroup',
      summary: 'One consumer group: state, members and their partitions, lag',
      tag: 'groups',
      params: groupParam,
      answer: groupDetailSchema,
      problems: [404],
      handler: async ({ params }) => groupView(transport, await existingGroup(groupAdmin, params.group)),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/groups/:group/reset',
      operationId: 'resetGroupOffsets',
      summary:
        "Move a group's committed offsets on a topic (earliest, latest, offset, time); dryRun shows the change",
      description:
        'Refused with 409 while the group has live members (embedded: a member whose last heartbeat is within ' +
        'its session; Kafka: the coordinator reports members or a state other than Empty/Dead).',
      tag: 'groups',
      params: groupParam,
      body: resetBody,
      answer: resetAnswer,
      problems: [404, 409, 422],
      handler: async ({ params, body, request }) => {
        const info = await existingGroup(groupAdmin, params.group);
        await existingTopic(transport, body.topic, 'body.topic');
        const plan = await planReset(
          transport,
          params.group,
          body.topic,
          resetTarget(body.to),
          body.partitions,
        );
        const actor = actorOf(request) ?? null;
        if (!body.dryRun) {
          await groupAdmin.commitOffsets(params.group, commitsOf(body.topic, plan));
          request.log.info(
            { group: params.group, topic: body.topic, to: body.to, actor, reason: body.reason },
            'consumer group offsets reset',
          );
        }
        return {
          group: params.group,
          topic: body.topic,
          dryRun: body.dryRun,
          applied: !body.dryRun,
          live: info.live,
          actor,
          changes: plan.map((p) => ({
            partition: p.partition,
            from: p.from === null ? null : p.from.toString(),
            to: p.to.toString(),
            lagBefore: p.lagBefore.toString(),
            lagAfter: p.lagAfter.toString(),
          })),
        };
      },
    }),
  );
}

function resetTarget(to: z.output<typeof resetBody>['to']): GroupResetTarget {
  if (typeof to === 'string') return to;
  return 'offset' in to ? { offset: BigInt(to.offset) } : { timestamp: Date.parse(to.time) };
}
