import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../examples/catalog.ts';
import { createEvent } from '../../src/events/create-event.ts';
import { allRecords, seedDeadLetters } from '../../src/server/test-support/api-fixture.ts';
import { decodeRecord } from '../../src/server/topics/message-filter.ts';
import { launchChromium, saveScreenshot, seriousViolations } from './browser.ts';
import {
  compensations,
  STORE_SEED,
  seedDischarge,
  seedStore,
  seedTrace,
  seedWorkflows,
} from './seed-store.ts';
import { GROUP, SEED, type SeededNode, startSeededNode, TOPIC } from './seeded-node.ts';

// The console in real Chromium against a node on the embedded transport, seeded with events, a group
// 30 events behind, and 7 dead letters. The tests run in order: later pages see what earlier actions did.
describe('web console', () => {
  let seeded: SeededNode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [seeded, browser] = await Promise.all([startSeededNode(), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await seeded?.close();
  });

  const open = async (path: string) => {
    await page.goto(`${seeded.url}${path}`);
  };
  /** Screenshot, then axe-core: no serious or critical violation. */
  const check = async (name: string) => {
    await saveScreenshot(page, name);
    expect(await seriousViolations(page)).toEqual([]);
  };
  // The page updates on its own (polls, jobs, streams): wait for it, generously on a busy machine.
  const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 100 });
  const text = (selector: string) => page.locator(selector).first().innerText();
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field; the API tests check their shape.
  const api = (path: string): Promise<any> => fetch(`${seeded.url}${path}`).then((r) => r.json());

  it('overview: total lag, dead letters and the write rate from the live figures stream, both themes', async () => {
    await open('/');
    await eventually(() => text('[data-stat="Total lag"]')).toBe(String(SEED.lag));
    await expect
      .poll(() => text('[data-stat="Dead letters"]'))
      .toBe(String(SEED.validationFailures + SEED.timeoutFailures));
    for (let i = 0; i < 20; i++) {
      await seeded.node.publisher.publish(PatientCreated, {
        patientId: `live-${i}`,
        firstName: 'A',
        lastName: 'B',
        dateOfBirth: '2000-01-01',
      });
    }
    await eventually(() => text('[data-stat="Written"]')).not.toBe('0.0/s');
    await page.locator('[data-figures-stream="open"]').waitFor();
    await eventually(() => page.locator('figure.chart canvas').count()).toBeGreaterThanOrEqual(2);
    await check('overview-light');

    const before = await page.evaluate<string>('document.documentElement.dataset.theme');
    await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
    const after = await page.evaluate<string>('document.documentElement.dataset.theme');
    expect(after).not.toBe(before);
    await check(`overview-${after}`);
    await page.reload();
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe(after);
    if (after === 'dark') await page.getByRole('button', { name: 'Switch to light theme' }).click();
  });

  it('topics: each topic with its messages and the lag of its groups', async () => {
    await open('/topics');
    const row = page.getByRole('row', { name: new RegExp(TOPIC) });
    // 150 seeded + 20 published on the overview; the group's lag is its 30 + the 20 new.
    await eventually(() => text(`[data-topic-messages="${TOPIC}"]`)).toBe('170');
    expect(await text(`[data-topic-lag="${TOPIC}"]`)).toBe('50');
    expect(await row.innerText()).toMatch(/\d+\.\d kB/);
    await check('topics');
    // Keyboard: g then c goes to the catalog, g then t back.
    await page.keyboard.press('g');
    await page.keyboard.press('c');
    await page.waitForURL(/\/catalog$/);
    await page.keyboard.press('g');
    await page.keyboard.press('t');
    await page.waitForURL(/\/topics$/);
    await row.getByRole('link').click();
    await page.waitForURL(new RegExp(`/topics/${TOPIC}$`));
  });

  it('message browser: filters go in the URL, a shared URL shows the same, keyboard opens a message', async () => {
    await open(`/topics/${TOPIC}`);
    await eventually(() => text('[data-shown]')).toContain('170 shown');
    // Virtualized: only the rows in view (and a few around them) are in the page.
    expect(await page.locator('.virtual-row').count()).toBeLessThan(40);
    await page.locator('.virtual').evaluate((list) => list.scrollTo(0, list.scrollHeight));
    await eventually(() => page.locator('.virtual-row').last().innerText()).toMatch(/^\d+:0\b/);
    await page.getByLabel('Key').fill('p-7');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/key=p-7/);
    // p-7 was published twice (in the first 120 and again in the last 30).
    await eventually(() => text('[data-shown]')).toContain('2 shown');
    const shared = page.url();
    const second = await context.newPage();
    await second.goto(shared);
    await eventually(() => second.locator('[data-shown]').innerText()).toContain('2 shown');
    expect(await second.getByLabel('Key').inputValue()).toBe('p-7');
    await second.close();
    await check('messages');

    await page.locator('[data-row-link]').first().focus();
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate<string>(`document.activeElement?.getAttribute('href')`);
    expect(focused).toMatch(/\/messages\/\d+\/\d+$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/messages\/\d+\/\d+$/);
  });

  it('message: the decoded event as JSON, its headers and raw bytes', async () => {
    const first = (await api(`/v1/topics/${TOPIC}/messages?key=p-7&order=oldest&limit=1`)).items[0];
    await open(`/topics/${TOPIC}/messages/${first.partition}/${first.offset}`);
    await eventually(() => text('pre.json')).toContain('"patientId": "p-7"');
    expect(await text('table')).toContain('ce_type');
    expect(await text('pre.hex')).toMatch(/^000000 {2}7b 22/); // `{"` : the JSON value's first bytes
    await check('message');
  });

  it('a CEL filter goes in the URL like the others; one that does not parse says where', async () => {
    await open(`/topics/${TOPIC}`);
    await page.getByLabel('CEL expression').fill('data.lastName == "L7" && event.subject.startsWith("p-")');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/cel=/);
    await eventually(() => text('[data-shown]')).toContain('2 shown');
    await page.getByLabel('CEL expression').fill('data.lastName ==');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => text('[role="alert"]')).toContain('query.cel');
  });

  it('whole-topic search runs as a job with progress and links to what matched; the topic summary', async () => {
    await open(`/topics/${TOPIC}?key=p-7`);
    await eventually(() => text('details.summary-card summary')).toMatch(
      /^170 messages \(\d+\.\d kB\) in 12 partitions/,
    );
    expect(await text('details.summary-card summary')).toContain(`${GROUP} (lag 50)`);
    await page.getByRole('button', { name: 'Search the whole topic' }).click();
    await eventually(() => text('[data-search-result]')).toBe('2 matched in 170 records.');
    expect(await page.locator('.search progress').getAttribute('value')).toBe('170');
    await check('search');
    await page.locator('.matches a').first().click();
    await eventually(() => text('pre.json')).toContain('"patientId": "p-7"');
  });

  it('export downloads the selection as NDJSON, which imports back; a bad file shows what is wrong', async () => {
    await open(`/topics/${TOPIC}?key=p-7`);
    await eventually(() => text('[data-shown]')).toContain('2 shown');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export NDJSON' }).click(),
    ]);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => JSON.parse(line).data.patientId)).toEqual(['p-7', 'p-7']);

    // The seed published through the library, so the node has not seen these ids: the import appends
    // them, the list shows them at once, and the same file imported again appends nothing.
    const importFile = async () => {
      await page.locator('input[name="import"]').setInputFiles(file);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
    };
    await importFile();
    await eventually(() => page.locator('.notice').innerText()).toContain('Imported 2 events');
    await eventually(() => text('[data-shown]')).toContain('4 shown');
    await importFile();
    await eventually(() => page.locator('.notice').innerText()).toContain('Imported 0 events');
    expect(await page.locator('.notice').innerText()).toContain('2 already there');

    await page.locator('input[name="import"]').setInputFiles({
      name: 'bad.ndjson',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from('{"not":"an event"}\n'),
    });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await eventually(() => text('.import [role="alert"]')).toMatch(/line\[1\]/);
  });

  it('export on a node that forbids it (KEEL_EXPORT_ENABLED=false) says so instead of downloading', async () => {
    const locked = await startSeededNode({ exportEnabled: false });
    try {
      await page.goto(`${locked.url}/topics/${TOPIC}`);
      let downloads = 0;
      page.on('download', () => downloads++);
      await page.getByRole('link', { name: 'Export CSV' }).click();
      await eventually(() => text('[role="alert"]')).toMatch(/Forbidden \(403\)/);
      expect(await text('[role="alert"]')).toContain('exports are turned off on this node');
      expect(downloads).toBe(0);
      await check('export-forbidden');
    } finally {
      await locked.close();
    }
  });

  it('live tail shows a message published while it follows', async () => {
    await open(`/topics/${TOPIC}`);
    await page.getByRole('checkbox', { name: 'Live tail' }).check();
    await page.locator('[data-live-state="open"]').waitFor();
    await seeded.node.publisher.publish(PatientCreated, {
      patientId: 'tail-1',
      firstName: 'T',
      lastName: 'L',
      dateOfBirth: '2000-01-01',
    });
    await expect
      .poll(() => page.getByRole('list', { name: 'Live messages' }).innerText())
      .toContain('tail-1');
    await check('live-tail');
    await page.getByRole('checkbox', { name: 'Live tail' }).uncheck();
  });

  it('consumer groups: lag per partition as a chart; a reset shows its dry run, then applies it', async () => {
    await open('/groups');
    const lag = Number((await api(`/v1/groups/${GROUP}`)).lag.total);
    await eventually(() => text(`[data-group-lag="${GROUP}"]`)).toBe(String(lag));
    await check('groups');

    await open(`/groups/${GROUP}`);
    await eventually(() => text('[data-group-total-lag]')).toBe(String(lag));
    await eventually(() => page.locator('figure.chart canvas').count()).toBe(1);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const plan = page.locator('[data-reset-plan="dry-run"]');
    await plan.waitFor();
    expect(await plan.innerText()).toContain('Dry run: nothing moved yet');
    expect(Number((await api(`/v1/groups/${GROUP}`)).lag.total)).toBe(lag);
    await check('group');

    await page.getByLabel('Reason (recorded)').fill('replay for the console test');
    await page.getByRole('button', { name: 'Apply this change' }).click();
    await page.locator('[data-reset-plan="applied"]').waitFor();
    const total = (await api(`/v1/topics/${TOPIC}`)).offsets.reduce(
      (sum: number, p: { earliest: string; latest: string }) => sum + Number(p.latest) - Number(p.earliest),
      0,
    );
    expect(Number((await api(`/v1/groups/${GROUP}`)).lag.total)).toBe(total);
    await eventually(() => text('[data-group-total-lag]')).toBe(total.toLocaleString('en-US'));
  });

  it('dead letters: grouped failures, a bulk retry with its progress, one retried, one discarded with a reason', async () => {
    await open('/dead-letters');
    await eventually(() => text(`[data-dlq-pending="${GROUP}"]`)).toBe('7');
    await check('dead-letter-groups');

    await page.getByRole('link', { name: GROUP }).click();
    await eventually(() => text('[data-dlq-total]')).toBe('7');
    await check('dead-letters');
    await page.getByRole('button', { name: `Retry all ${SEED.validationFailures}` }).click();
    await page.locator('[data-job-status="succeeded"]').waitFor();
    const bar = page.locator('.job progress');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['5', '5']);
    expect(await text('[data-job-status]')).toContain('5 retried');
    await eventually(() => text('[data-dlq-total]')).toBe(String(SEED.timeoutFailures));

    const entries = (await api(`/v1/groups/${GROUP}/dead-letters?status=pending`)).items as { id: string }[];
    await open(`/dead-letters/${GROUP}/${encodeURIComponent(entries[0]!.id)}`);
    await eventually(() => text('pre.json')).toContain('patientId');
    await check('dead-letter');
    await page.getByRole('button', { name: 'Retry' }).click();
    await eventually(() => text('[data-dead-letter-status]')).toBe('retried');
    expect(await text('main')).toContain('retried by console');

    await open(`/dead-letters/${GROUP}/${encodeURIComponent(entries[1]!.id)}`);
    await page.getByLabel('Reason to discard').fill('duplicate of a corrected event');
    await page.getByRole('button', { name: 'Discard' }).click();
    await eventually(() => text('[data-dead-letter-status]')).toBe('discarded');
    expect(await text('main')).toContain('duplicate of a corrected event');
  });

  it('dead letters: retrying all pending is refused when the selection changed under it, then runs', async () => {
    const records = await allRecords(seeded.node, TOPIC);
    await seedDeadLetters(seeded.node, GROUP, records.slice(20, 22), 'SchemaError', 'admissions:map');
    await open(`/dead-letters/${GROUP}`);
    await eventually(() => text('[data-dlq-total]')).toBe('2');
    // Another failure arrives while the page shows 2.
    await seedDeadLetters(seeded.node, GROUP, records.slice(22, 23), 'SchemaError', 'admissions:map');
    await page.getByRole('button', { name: 'Retry all 2 pending' }).click();
    await expect
      .poll(() => text('[role="alert"]'))
      .toContain('the selection changed: 3 pending dead letters match, not 2');
    await page.reload();
    await page.getByRole('button', { name: 'Retry all 3 pending' }).click();
    await page.locator('[data-job-status="succeeded"]').waitFor();
    expect(await text('[data-job-status]')).toContain('3 retried');
    await eventually(() => text('.empty strong')).toBe('Nothing waits here');
  });

  it('catalog: event types with their JSON Schema', async () => {
    await open('/catalog');
    const type = page.locator('li', { hasText: PatientCreated.type });
    await type.getByText('JSON Schema').click();
    await eventually(() => type.locator('pre.json').innerText()).toContain('"dateOfBirth"');
    await check('catalog');
  });

  it('jobs: the bulk retry with its status, progress and counts', async () => {
    await open('/jobs');
    const row = page.getByRole('row', { name: /dead-letters\.retry/ }).filter({ hasText: '5 retried' });
    await eventually(() => row.innerText()).toContain('succeeded');
    expect(await row.innerText()).toContain('5 retried');
    expect(await row.innerText()).toContain('console');
    expect(await page.getByRole('row', { name: /dead-letters\.retry/ }).count()).toBe(2);
    expect(await page.getByRole('row', { name: /topics\.search/ }).count()).toBe(1);
    await check('jobs');
  });

  it('event store: streams filtered in the URL, a stream with versions and snapshot, a projection rebuilt', async () => {
    await seedStore(seeded.node);
    await open('/store');
    await eventually(() => page.locator('[data-stream]').count()).toBe(STORE_SEED.streams.length);
    expect(await text('[data-stream="patient-a"] [data-stream-version]')).toBe(
      String(STORE_SEED.patientAVersion),
    );
    const projection = '[data-projection="console_patient_counts"]';
    expect(await text(`${projection} [data-projection-lag]`)).toBe(String(STORE_SEED.lagAfterSeed));
    expect(await text(`${projection} [data-projection-status]`)).toBe('behind');
    await check('store');

    await page.getByLabel('Tenant').fill('north');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => page.url()).toContain('/store?tenant=north');
    await eventually(() => page.locator('[data-stream]').count()).toBe(1);
    await page.goto(`${seeded.url}/store?prefix=patient-`);
    await eventually(() => page.locator('[data-stream]').count()).toBe(3);
    await page.goto(`${seeded.url}/store?type=no.such.type`);
    await eventually(() => text('.empty strong')).toBe('No streams match');

    await open('/store');
    await page.getByRole('button', { name: 'Rebuild console_patient_counts' }).click();
    await page.locator('[data-job-status="succeeded"]').waitFor();
    const bar = page.locator('.job progress');
    expect(Number(await bar.getAttribute('value'))).toBeGreaterThan(0);
    expect(await bar.getAttribute('value')).toBe(await bar.getAttribute('max'));
    await eventually(() => text(`${projection} [data-projection-lag]`)).toBe('0');
    expect(await text(`${projection} [data-projection-status]`)).toBe('caught-up');

    await page.getByRole('link', { name: 'patient-a' }).click();
    await eventually(() => text('[data-stream-version]')).toBe(String(STORE_SEED.patientAVersion));
    expect(await page.locator('[data-event-version]').count()).toBe(STORE_SEED.patientAVersion);
    expect(await text('[data-snapshot="patient"]')).toContain('at stream version 2');
    await check('stream');
    await open('/store/streams/nobody');
    await eventually(() => text('[role="alert"]')).toContain('(404)');
  });

  it('a stream longer than a page shows its first page and fetches the rest on request', async () => {
    const { store } = seeded.node.store;
    const changes = Array.from({ length: 620 }, (_, i) =>
      createEvent(
        PatientUpdated,
        { patientId: 'long', changes: { visit: i } },
        { source: 'urn:console:test' },
      ),
    );
    await store.append('patient-long', changes);
    await open('/store/streams/patient-long');
    await eventually(() => page.locator('[data-event-version]').count()).toBe(500);
    expect(await text('[data-shown-count]')).toContain('500 events shown; there are more');
    await page.getByRole('button', { name: 'Load more events' }).click();
    await eventually(() => page.locator('[data-event-version]').count()).toBe(620);
    expect(await text('[data-shown-count]')).toBe('620 events shown.');
    expect(await page.getByRole('button', { name: 'Load more events' }).count()).toBe(0);
    expect(await page.locator('[data-event-version]').last().getAttribute('data-event-version')).toBe('620');
  });

  it('jobs: a running job is cancelled from the jobs page and ends cancelled, part done', async () => {
    // A replay of the seeded store at one event every two seconds: it runs long enough to be cancelled.
    const started = await fetch(`${seeded.url}/v1/store/replays`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ratePerSecond: 0.5 }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const id = started.id;
    await open('/jobs');
    const row = page.locator(`[data-job="${id}"]`);
    await eventually(() => row.innerText()).toContain('running');
    await row.getByRole('button', { name: 'Cancel' }).click();
    await eventually(() => row.innerText()).toContain('cancelled');
    expect(await row.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    const job = await api(`/v1/jobs/${id}`);
    expect(job.status).toBe('cancelled');
    expect(job.progress.done).toBeLessThan(job.progress.total);
  });

  it('workflows: instances by SLA state and status, a timeline, a signal refused, a cancel with a reason', async () => {
    const [admission, , triage] = await seedWorkflows(seeded.node);
    await open('/workflows');
    await eventually(() => text('[data-sla-count="on-time"]')).toBe(`On time: ${STORE_SEED.admissions}`);
    expect(await text('[data-sla-count="breached"]')).toBe(`Breached: ${STORE_SEED.triages}`);
    expect(await page.locator(`[data-sla="breached"] [data-instance="${triage}"]`).count()).toBe(1);
    await check('workflows');
    await page.getByLabel('Status').selectOption('cancelled');
    await eventually(async () => page.url()).toContain('/workflows?status=cancelled');
    await eventually(() => text('.empty strong')).toBe('No cancelled instances');

    await open(`/workflows/${admission}`);
    await eventually(() => text('[data-workflow-status]')).toBe('waiting');
    expect(await page.locator('[data-lane="register"] rect[data-attempt="completed"]').count()).toBe(1);
    expect(await page.locator('[data-lane="approve"] rect[data-attempt="running"]').count()).toBe(1);
    await check('workflow');

    await page.getByLabel('Signal name').fill('approved');
    await page.getByLabel('Payload (JSON)').fill('{not json');
    await page.getByRole('button', { name: 'Send signal' }).click();
    await eventually(() => text('[role="alert"]')).toContain('The payload is not JSON');

    await page.getByLabel('Reason').fill('admitted elsewhere');
    await page.getByRole('button', { name: 'Cancel instance' }).click();
    await eventually(async () => {
      await page.reload();
      return text('[data-workflow-status]');
    }).toBe('cancelled');
    expect((await api(`/v1/workflows/instances/${admission}`)).status).toBe('cancelled');
    await open('/workflows?status=cancelled');
    await eventually(() => page.locator(`[data-instance="${admission}"]`).count()).toBe(1);
  });

  it('workflows: an instance that needs an operator is retried from its page once its cause is fixed', async () => {
    const discharge = await seedDischarge(seeded.node);
    await open(`/workflows/${discharge}`);
    await eventually(() => text('[data-workflow-status]')).toBe('needs operator');
    expect(await page.locator('[data-lane="bill"] rect[data-attempt="failed"]').count()).toBe(1);
    await check('workflow-needs-operator');
    // Still broken: the retry runs, the compensation fails again, and the instance still waits.
    await page.getByRole('button', { name: 'Retry compensation' }).click();
    await eventually(() => page.locator('.notice').innerText()).toContain('Compensation retried.');
    compensations.allowed = true;
    await page.getByRole('button', { name: 'Retry compensation' }).click();
    await eventually(async () => {
      await page.reload();
      return text('[data-workflow-status]');
    }).toBe('compensated');
    expect((await api(`/v1/workflows/instances/${discharge}`)).status).toBe('compensated');
    expect(await page.getByRole('button', { name: 'Retry compensation' }).count()).toBe(0);
  });

  it('trace: from a message to its causation tree across the topic, the groups and the store', async () => {
    const group = 'console-tracers';
    const { root, child, streamId } = await seedTrace(seeded.node, group);
    const records = await allRecords(seeded.node, TOPIC);
    const rootRecord = records.find((r) => decodeRecord(r)?.id === root.id)!;
    await open(`/topics/${TOPIC}/messages/${rootRecord.partition}/${rootRecord.offset}`);
    await page.getByRole('link', { name: 'Trace this event' }).click();
    await eventually(() => text('[data-trace-count]')).toBe('3');
    expect(page.url()).toContain(`/trace?event=${root.id}`);
    expect(await page.locator(`[data-trace-event="${root.id}"]`).getAttribute('data-depth')).toBe('0');
    expect(await page.locator(`[data-trace-event="${child.id}"]`).getAttribute('data-depth')).toBe('1');
    expect(await text(`[data-trace-event="${root.id}"] [data-handled-by]`)).toContain(group);
    expect(await text(`[data-trace-event="${root.id}"] [data-trace-record]`)).toContain(
      `${TOPIC}/${rootRecord.partition}:${rootRecord.offset}`,
    );
    expect(await page.locator(`[data-trace-stream="${streamId}"]`).count()).toBe(1);
    await check('trace');

    await open('/trace');
    await eventually(() => text('.empty strong')).toBe('Trace an event');
    await page.getByLabel('Trace by').selectOption('correlation');
    await page.getByLabel('Event or correlation id').fill(root.id);
    await page.getByRole('button', { name: 'Trace', exact: true }).click();
    await eventually(() => text('[data-trace-count]')).toBe('3');
    expect(page.url()).toContain(`/trace?correlation=${root.id}`);
    await open('/trace?event=no-such-event');
    await eventually(() => text('[role="alert"]')).toContain('(404)');
  });

  it('dead letters: a chain head says how many are parked behind it; parked entries name their head', async () => {
    const group = 'console-ordered';
    const [first] = await allRecords(seeded.node, TOPIC);
    // Three events of one key: the later two parked behind the first.
    const chain = [0n, 100n, 200n].map((more) => ({ ...first!, offset: first!.offset + more }));
    await seedDeadLetters(seeded.node, group, chain, 'OrderError', 'orders:apply', true);
    await open(`/dead-letters/${group}`);
    await eventually(() => text('[data-chain-head]')).toBe('2 events parked behind this one');
    const head = (await api(`/v1/groups/${group}/dead-letters?status=pending`)).items.find(
      (e: { parkedBehind: number }) => e.parkedBehind > 0,
    ).id as string;
    expect(await page.locator(`[data-parked-behind="${head}"]`).count()).toBe(2);
    await check('dead-letters-parked');
    await page.locator(`[data-parked-behind="${head}"] a`).first().click();
    await eventually(() => text('[data-chain-head]')).toBe('2 events parked behind this one');
  });

  it('errors say what went wrong; an unknown address is a page that says so', async () => {
    await open('/topics/no-such-topic');
    await eventually(() => text('[role="alert"]')).toContain('Not found (404)');
    await check('error');
    await open('/no/such/page');
    await eventually(() => text('h1')).toBe('No such page');
    const api404 = await fetch(`${seeded.url}/v1/nothing`, { headers: { accept: 'text/html' } });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toContain('application/problem+json');
  });

  // Fourteen pages, each rendered, screenshotted and checked by axe: on a loaded 2-core machine that takes
  // longer than one test's usual 30 s.
  it('every page in the dark theme (taken from the system): no serious or critical accessibility violation', {
    timeout: 120_000,
  }, async () => {
    const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 860 } });
    const darkPage = await dark.newPage();
    const entry = (await api(`/v1/groups/${GROUP}/dead-letters?limit=1`)).items[0].id as string;
    const traced = (await api('/v1/store/streams?prefix=patient-trace')).items[0].streamId as string;
    const tracedEvent = (await api(`/v1/store/streams/${encodeURIComponent(traced)}`)).items[0].event;
    const pages = {
      overview: '/',
      topics: '/topics',
      messages: `/topics/${TOPIC}`,
      message: `/topics/${TOPIC}/messages/0/0`,
      groups: '/groups',
      group: `/groups/${GROUP}`,
      'dead-letters': `/dead-letters/${GROUP}`,
      'dead-letter': `/dead-letters/${GROUP}/${encodeURIComponent(entry)}`,
      catalog: '/catalog',
      jobs: '/jobs',
      store: '/store',
      stream: '/store/streams/patient-a',
      workflows: '/workflows',
      trace: `/trace?correlation=${encodeURIComponent(String(tracedEvent.correlationid))}`,
    };
    for (const [name, path] of Object.entries(pages)) {
      await darkPage.goto(`${seeded.url}${path}`);
      await darkPage.locator('main h1').waitFor();
      await darkPage.waitForFunction(`!document.querySelector('[aria-busy="true"]')`);
      expect(await darkPage.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
      await saveScreenshot(darkPage, `dark-${name}`);
      expect([name, await seriousViolations(darkPage)]).toEqual([name, []]);
    }
    await dark.close();
  });
});
