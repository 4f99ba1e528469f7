import { readFileSync } from 'node:fs';

/** One step of a scenario, with its doc string or data table. */
export interface Step {
  /** Text after the keyword (Given/When/Then/And/But), placeholders filled in. */
  text: string;
  docString?: string;
  /** Rows of cells, header row included. */
  table?: string[][];
}

/** A scenario, or one row of a scenario outline's examples. */
export interface Scenario {
  name: string;
  steps: Step[];
}

const STEP = /^(Given|When|Then|And|But)\s+(.*)$/;

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/<([^>]+)>/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * Reads the scenarios of a Gherkin feature file: enough of Gherkin for the CloudEvents conformance
 * features (scenarios, outlines with examples, doc strings, tables); background steps are dropped.
 */
export function readFeature(path: string | URL): Scenario[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const scenarios: { name: string; steps: Step[]; examples: string[][] }[] = [];
  let current: (typeof scenarios)[number] | undefined;
  let inExamples = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    const header = /^Scenario(?: Outline)?:\s*(.*)$/.exec(trimmed);
    if (header) {
      current = { name: header[1] ?? '', steps: [], examples: [] };
      scenarios.push(current);
      inExamples = false;
    } else if (trimmed.startsWith('Background:')) {
      current = undefined;
    } else if (trimmed.startsWith('Examples:')) {
      inExamples = true;
    } else if (current && trimmed.startsWith('"""')) {
      const indent = line.indexOf('"""');
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] ?? '').trim() !== '"""'; i++)
        body.push((lines[i] ?? '').slice(indent));
      const step = current.steps.at(-1);
      if (step) step.docString = body.join('\n');
    } else if (current && trimmed.startsWith('|')) {
      const step = current.steps.at(-1);
      if (inExamples) current.examples.push(cells(trimmed));
      else if (step) step.table = [...(step.table ?? []), cells(trimmed)];
    } else if (current && STEP.test(trimmed)) {
      current.steps.push({ text: STEP.exec(trimmed)?.[2] ?? '' });
    }
  }
  return scenarios.flatMap(({ name, steps, examples }) => {
    const [names, ...rows] = examples;
    if (!names) return [{ name, steps }];
    return rows.map((row) => {
      const values = Object.fromEntries(names.map((key, index) => [key, row[index] ?? '']));
      return {
        name: fill(name, values),
        steps: steps.map((step) => ({
          text: fill(step.text, values),
          ...(step.docString === undefined ? {} : { docString: fill(step.docString, values) }),
          ...(step.table === undefined
            ? {}
            : { table: step.table.map((r) => r.map((c) => fill(c, values))) }),
        })),
      };
    });
  });
}

/** The key/value rows of a two-column table whose first row is its header. */
export function tableEntries(table: readonly string[][] | undefined): [string, string][] {
  return (table ?? []).slice(1).map((row) => [row[0] ?? '', row[1] ?? '']);
}
