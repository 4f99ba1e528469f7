import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  type Admin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';

/** Who may use one topic: the principals that produce to it and the (principal, group) pairs that consume it. */
export interface TopicAccessConfig {
  topic: string;
  produce: readonly string[];
  consume: readonly { principal: string; group: string }[];
}

/** One ACL in Keel's terms: a principal allowed one operation on a topic or group (literal name, any host). */
export interface AclEntry {
  resource: 'topic' | 'group';
  name: string;
  principal: string;
  operation: 'READ' | 'WRITE' | 'DESCRIBE';
}

/** What applying the access definitions would do to the cluster's ACLs. */
export interface AclPlan {
  create: readonly AclEntry[];
  /** ACLs on a defined topic that its definition no longer grants. */
  delete: readonly AclEntry[];
  /** ACLs already as defined. */
  unchanged: number;
}

/** The ACLs a definition grants: WRITE+DESCRIBE for producers, READ+DESCRIBE on the topic and READ on the group for consumers. */
export function aclEntries(access: TopicAccessConfig): AclEntry[] {
  const entries: AclEntry[] = [];
  const topic = (principal: string, operation: AclEntry['operation']) =>
    entries.push({ resource: 'topic', name: access.topic, principal, operation });
  for (const principal of access.produce) {
    topic(principal, 'WRITE');
    topic(principal, 'DESCRIBE');
  }
  for (const { principal, group } of access.consume) {
    topic(principal, 'READ');
    topic(principal, 'DESCRIBE');
    entries.push({ resource: 'group', name: group, principal, operation: 'READ' });
  }
  return dedupe(entries);
}

const key = (e: AclEntry) => `${e.resource}\u0000${e.name}\u0000${e.principal}\u0000${e.operation}`;

function dedupe(entries: readonly AclEntry[]): AclEntry[] {
  return [...new Map(entries.map((e) => [key(e), e])).values()];
}

const resourceTypes = { topic: ResourceTypes.TOPIC, group: ResourceTypes.GROUP } as const;
const operationNames = new Map<number, AclEntry['operation']>([
  [AclOperations.READ, 'READ'],
  [AclOperations.WRITE, 'WRITE'],
  [AclOperations.DESCRIBE, 'DESCRIBE'],
]);

function toAcl(entry: AclEntry): Acl {
  return {
    resourceType: resourceTypes[entry.resource],
    resourceName: entry.name,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: entry.principal,
    host: '*',
    operation: AclOperations[entry.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** The ALLOW ACLs (literal name, any host) on one topic or group that Keel manages. */
async function currentAcls(admin: Admin, resource: AclEntry['resource'], name: string): Promise<AclEntry[]> {
  const resources = await admin.describeAcls({
    filter: {
      resourceType: resourceTypes[resource],
      resourceName: name,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: null,
      host: null,
      operation: AclOperations.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    },
  });
  const entries: AclEntry[] = [];
  for (const r of resources) {
    for (const acl of r.acls) {
      const operation = operationNames.get(acl.operation);
      // Other operations and host-bound ACLs were not made by Keel: they are left as they are.
      if (operation !== undefined && acl.host === '*')
        entries.push({ resource, name, principal: acl.principal, operation });
    }
  }
  return entries;
}

/**
 * Compares the access definitions with the cluster's ACLs, changing nothing. A defined topic's READ, WRITE and
 * DESCRIBE ACLs become exactly the definition's (others are deleted); on groups, ACLs are only added, since a
 * group may be shared by topics defined elsewhere.
 */
export async function planAcls(admin: Admin, definitions: readonly TopicAccessConfig[]): Promise<AclPlan> {
  const wanted = dedupe(definitions.flatMap(aclEntries));
  const groups = [...new Set(wanted.filter((e) => e.resource === 'group').map((e) => e.name))];
  const existing = (
    await Promise.all([
      ...definitions.map((d) => currentAcls(admin, 'topic', d.topic)),
      ...groups.map((g) => currentAcls(admin, 'group', g)),
    ])
  ).flat();
  const have = new Set(existing.map(key));
  const want = new Set(wanted.map(key));
  return {
    create: wanted.filter((e) => !have.has(key(e))),
    delete: existing.filter((e) => e.resource === 'topic' && !want.has(key(e))),
    unchanged: wanted.filter((e) => have.has(key(e))).length,
  };
}

/** Creates and deletes the plan's ACLs (the brokers refuse both unless the caller may ALTER the cluster). */
export async function applyAclPlan(admin: Admin, plan: AclPlan): Promise<void> {
  if (plan.create.length > 0) await admin.createAcls({ creations: plan.create.map(toAcl) });
  if (plan.delete.length > 0) await admin.deleteAcls({ filters: plan.delete.map(toAcl) });
}

/** The plan as `keel topics plan` prints it: `+ allow` to create, `- allow` to delete. */
export function formatAclPlan(plan: AclPlan): string {
  const line = (sign: string, e: AclEntry) =>
    `${sign} allow ${e.principal} ${e.operation} on ${e.resource} ${e.name}`;
  const lines = [...plan.create.map((e) => line('+', e)), ...plan.delete.map((e) => line('-', e))];
  if (plan.unchanged > 0) lines.push(`= ${plan.unchanged} ACL(s) up to date`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
