import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/cli/test-support/run-cli.ts';
import type { TopicAccess } from '../../src/events/define-topic.ts';

/** A topic as a test catalog declares it (the options of `defineTopic`, without events). */
export interface TestTopic {
  name: string;
  partitions: number;
  retentionMs?: number;
  compacted?: boolean;
  access?: TopicAccess;
}

/**
 * Writes a catalog module into `dir` that imports Keel from this checkout: the example patient events,
 * on the given topics (the first carries them, the others carry none). Returns its path.
 */
export function writeTestCatalog(dir: string, file: string, topics: readonly TestTopic[]): string {
  const path = join(dir, file);
  const src = (part: string) => JSON.stringify(join(PACKAGE_ROOT, part));
  const declared = topics
    .map(
      (topic, i) =>
        `defineTopic({ ...${JSON.stringify(topic)}, events: ${i === 0 ? '[PatientCreated, PatientUpdated]' : '[]'} })`,
    )
    .join(',\n    ');
  writeFileSync(
    path,
    `import { createCatalog } from ${src('src/events/catalog.ts')};
import { defineTopic } from ${src('src/events/define-topic.ts')};
import { PatientCreated, PatientUpdated } from ${src('examples/catalog.ts')};
export default createCatalog({
  topics: [
    ${declared},
  ],
});
`,
  );
  return path;
}
