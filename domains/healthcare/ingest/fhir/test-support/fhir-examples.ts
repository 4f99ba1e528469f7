import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** HL7's FHIR test cases on Maven Central: the R4 specification's example resources, among others. */
const ARTIFACT = { group: 'org.hl7.fhir.testcases', name: 'fhir-test-cases', version: '1.7.27' };

const JAR = join(
  homedir(),
  '.m2',
  'repository',
  ...ARTIFACT.group.split('.'),
  ARTIFACT.name,
  ARTIFACT.version,
  `${ARTIFACT.name}-${ARTIFACT.version}.jar`,
);

/** Fetches the jar (53 MB) with Maven once: it stays in the local repository. Call it where a long wait is allowed. */
export function fetchFhirExamples(): string {
  if (!existsSync(JAR)) {
    execFileSync(
      'mvn',
      [
        '-q',
        'dependency:get',
        `-Dartifact=${ARTIFACT.group}:${ARTIFACT.name}:${ARTIFACT.version}`,
        '-Dtransitive=false',
      ],
      {
        stdio: 'inherit',
        timeout: 600_000,
      },
    );
  }
  return JAR;
}

/** A published R4 example by its file name, e.g. `patient-example.json` (from `r4/examples/` of the jar). */
export function r4Example(
  file: string,
  folder = 'org/hl7/fhir/testcases/r4/examples',
): Record<string, unknown> {
  const text = execFileSync('unzip', ['-p', fetchFhirExamples(), `${folder}/${file}`], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(text.toString('utf8')) as Record<string, unknown>;
}
