// Child process for the publisher's outage tests: takes the write lock of a SQLite file
// (BEGIN EXCLUSIVE) and holds it, so every append by another connection fails with SQLITE_BUSY once
// its busy timeout runs out, exactly as when another process hogs the file. Prints `locked`; on a
// `release` line on stdin (or after 60 s) commits, prints `released` and exits.
// Usage: node hold-write-lock.ts <file>
import BetterSqlite3 from 'better-sqlite3';

const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: hold-write-lock.ts <file>');

const db = new BetterSqlite3(path);
db.pragma('busy_timeout = 5000');
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\n');

const release = () => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\n');
  process.exit(0);
};
const safety = setTimeout(release, 60_000);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  if (chunk.includes('release')) {
    clearTimeout(safety);
    release();
  }
});
