import type { Database, Statement } from 'better-sqlite3';
import type { MatchingReadRequest, ValueCondition } from '../../transport.ts';
import type { StoredRow } from './read-statements.ts';

/** A condition as SQL over the stored value, with its parameters; undefined when it cannot be pushed down. */
interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** Rows kept and the window looked at: its last offset and how many records it held. */
export interface MatchingRows {
  rows: StoredRow[];
  /** Last offset looked at, or undefined when the window was empty. */
  lastLooked: bigint | undefined;
  scanned: number;
}

/** SQL for reads that skip records by conditions on their JSON value. */
export interface MatchingReadStatements {
  /** Looks at up to `maxScan` records from `from` on and keeps up to `maxRecords` that may match. */
  read(topicId: number, partition: number, from: bigint, request: MatchingReadRequest): MatchingRows;
}

type RawRow = [bigint, bigint, string | null, string | null, Buffer | null, bigint];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The path as a SQLite JSON path (`$.vitals.heartRate`, `$.items[0]`); undefined for a key it cannot quote. */
export function jsonPath(path: readonly (string | number)[]): string | undefined {
  let text = '$';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (PLAIN_KEY.test(step)) text += `.${step}`;
    else if (!step.includes('"') && !step.includes('\\')) text += `."${step}"`;
    else return undefined;
  }
  return text;
}

/**
 * A condition as SQL that holds for every value the caller's own check would accept (it may hold for
 * more): equality by JSON number or its digits as text, containment, numeric ranges. String ranges (SQLite
 * orders UTF-8 bytes, JavaScript UTF-16 units) and `!=` are left to the caller.
 */
export function conditionSql(condition: ValueCondition): SqlCondition | undefined {
  const path = jsonPath(condition.path);
  if (path === undefined) return undefined;
  const extracted = 'json_extract(CAST(r.value AS TEXT), ?)';
  const { operator, value } = condition;
  if (operator === '==') {
    if (value === null) return { sql: "json_type(CAST(r.value AS TEXT), ?) = 'null'", params: [path] };
    if (typeof value === 'number')
      return { sql: `(${extracted} = ? OR ${extracted} = ?)`, params: [path, value, path, String(value)] };
    if (typeof value === 'boolean') return { sql: `${extracted} = ?`, params: [path, value ? 1 : 0] };
    return { sql: `${extracted} = ?`, params: [path, value] };
  }
  if (operator === '~=') return { sql: `instr(${extracted}, ?) > 0`, params: [path, String(value)] };
  if (operator !== '!=' && typeof value === 'number')
    return { sql: `${extracted} ${operator} ?`, params: [path, value] };
  return undefined;
}

/** Whether a stored headers JSON (written by `JSON.stringify`, no spaces) has the header `name`. */
function headerSql(name: string): SqlCondition {
  const member = `${JSON.stringify(name)}:`;
  return {
    sql: '(instr(r.headers, ?) > 0 OR instr(r.headers, ?) > 0)',
    params: [`{${member}`, `,${member}`],
  };
}

/** Prepares matching reads on one connection; statements are built per set of conditions and kept. */
export function prepareMatchingReadStatements(db: Database): MatchingReadStatements {
  // The last offset of the window to look at: `maxScan` records on from `from`, or to the log end.
  const windowEnd = db
    .prepare<[number, number, bigint, number], [bigint | null, bigint]>(
      `SELECT max(record_offset), count(*) FROM (SELECT record_offset FROM records
       WHERE topic_id = ? AND partition_index = ? AND record_offset >= ? ORDER BY record_offset LIMIT ?)`,
    )
    .raw(true)
    .safeIntegers(true);
  const countBetween = db
    .prepare<[number, number, bigint, bigint], [bigint]>(
      'SELECT count(*) FROM records WHERE topic_id = ? AND partition_index = ? AND record_offset BETWEEN ? AND ?',
    )
    .raw(true)
    .safeIntegers(true);
  const cache = new Map<string, Statement<unknown[], RawRow>>();

  const matching = (request: MatchingReadRequest) => {
    const conditions = request.conditions.map(conditionSql).filter((c): c is SqlCondition => c !== undefined);
    let where = '';
    const params: unknown[] = [];
    if (request.key !== undefined) {
      where += ' AND r.key = ?';
      params.push(request.key);
    }
    if (conditions.length > 0) {
      // A compressed value (SQLite cannot read it), a value that is not JSON, or a record without the
      // header, is kept for the caller to judge once decompressed; the codec is tested first, so the JSON
      // functions never see compressed bytes.
      const all = conditions.map((c) => c.sql).join(' AND ');
      const header = request.whenHeader === undefined ? undefined : headerSql(request.whenHeader);
      where += ` AND (r.codec <> 0 OR ${header ? `NOT ${header.sql} OR ` : ''}NOT json_valid(CAST(r.value AS TEXT)) OR (${all}))`;
      params.push(...(header?.params ?? []), ...conditions.flatMap((c) => c.params));
    }
    const sql = `SELECT r.record_offset, r.timestamp, r.key, r.headers, r.value, r.codec
      FROM records r
      WHERE r.topic_id = ? AND r.partition_index = ? AND r.record_offset BETWEEN ? AND ?${where}
      ORDER BY r.record_offset LIMIT ?`;
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], RawRow>(sql).raw(true).safeIntegers(true);
      if (cache.size > 64) cache.clear();
      cache.set(sql, statement);
    }
    return { statement, params };
  };

  return {
    read: (topicId, partition, from, request) => {
      const [end, windowSize] = windowEnd.get(topicId, partition, from, request.maxScan) ?? [null, 0n];
      if (end === null) return { rows: [], lastLooked: undefined, scanned: 0 };
      const { statement, params } = matching(request);
      const rows = statement.all(topicId, partition, from, end, ...params, request.maxRecords).map(
        ([offset, timestamp, key, headers, value, codec]): StoredRow => ({
          offset,
          timestamp: Number(timestamp),
          key,
          headers,
          value,
          codec: Number(codec),
        }),
      );
      // Stopped at `maxRecords`: only the records up to the last kept were looked at.
      if (rows.length < request.maxRecords) return { rows, lastLooked: end, scanned: Number(windowSize) };
      const lastLooked = rows.at(-1)!.offset;
      const [scanned] = countBetween.get(topicId, partition, from, lastLooked) ?? [0n];
      return { rows, lastLooked, scanned: Number(scanned) };
    },
  };
}
