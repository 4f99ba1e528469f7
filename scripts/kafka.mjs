#!/usr/bin/env node
// A local 3-node Apache Kafka cluster (KRaft, each node broker+controller) on loopback,
// from the jars that infra/kafka/pom.xml names (fetched once from Maven Central with mvn).
//
//   node scripts/kafka.mjs up              start the missing nodes, wait until the cluster is healthy
//   node scripts/kafka.mjs down [--purge]  stop every node (SIGTERM to all at once); --purge deletes data
//   node scripts/kafka.mjs status          pid, ports and health of each node (exit 1 unless healthy)
//
// Also a module for tests and benchmarks: ensureCluster, stopCluster, nodeInfo, killNode,
// startNode, stopNode, clusterHealth, kafkaJavaArgs (types in kafka.d.mts).
// Plain Node ESM, no dependencies, Node >= 20. Everything it writes lives in infra/kafka/.cache/.
//
// Each node also runs the Prometheus JMX exporter agent (fetched once with mvn), serving the broker metrics
// that infra/monitoring/jmx-exporter/kafka.yml keeps on http://127.0.0.1:<id>9404/metrics.
//
// Each node also has a SASL_SSL listener (SCRAM-SHA-512) on <id>9094, with a certificate signed by a throwaway
// CA made here with openssl, and Kafka's ACL authorizer: the PLAINTEXT listener's principal (User:ANONYMOUS, also
// the brokers' and controllers' own) and the SCRAM user `keel-admin` are super users, every other SCRAM user
// needs ACLs. The CA, the certificates and the SCRAM passwords live in .cache/security (see securityInfo).
// `up` on a cluster started before that listener existed restarts its nodes one at a time.
//
// Environment: KEEL_KAFKA_HEAP_OPTS (default "-Xms256m -Xmx768m"), KEEL_KAFKA_JVM_OPTS (extra
// JVM flags), KEEL_KAFKA_UP_TIMEOUT_MS (default 120000), JAVA_HOME (else `java` on PATH).

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INFRA = path.join(ROOT, 'infra', 'kafka');
const POM = path.join(INFRA, 'pom.xml');
// Resolved: .cache may be a symlink (worktrees share one cluster), and a node is recognised by the
// config path on its command line, which must read the same from every checkout.
const CACHE = realCachePath(path.join(INFRA, '.cache'));
const LIBS = path.join(CACHE, 'libs');
const LIBS_STAMP = path.join(LIBS, '.keel-pom.sha256');
const CONFIG_DIR = path.join(CACHE, 'config');
const DATA_DIR = path.join(CACHE, 'data');
const LOG_DIR = path.join(CACHE, 'logs');
const RUN_DIR = path.join(CACHE, 'run');
const CLUSTER_ID_FILE = path.join(DATA_DIR, 'cluster.id');
const LOCK_FILE = path.join(RUN_DIR, 'up.lock');
const LOG4J_FILE = path.join(CONFIG_DIR, 'log4j2.properties');
// The Prometheus JMX exporter agent: a separate jar (not in the pom) so fetching it never invalidates the
// jars of running nodes; its config is copied into .cache so a node never reads a checkout's file.
const JMX_EXPORTER_VERSION = '1.0.1';
const JMX_AGENT_JAR = path.join(CACHE, 'agents', `jmx_prometheus_javaagent-${JMX_EXPORTER_VERSION}.jar`);
const JMX_CONFIG_SOURCE = path.join(ROOT, 'infra', 'monitoring', 'jmx-exporter', 'kafka.yml');
const JMX_CONFIG = path.join(CONFIG_DIR, 'jmx-exporter.yml');
const SECURITY_DIR = path.join(CACHE, 'security');
const CA_KEY = path.join(SECURITY_DIR, 'ca.key');
const CA_CERT = path.join(SECURITY_DIR, 'ca.pem');
const BROKER_KEYSTORE = path.join(SECURITY_DIR, 'broker-keystore.pem');
const CREDENTIALS_FILE = path.join(SECURITY_DIR, 'credentials.json');
const SCRAM_STAMP = path.join(SECURITY_DIR, 'scram-users.applied');
/** The SCRAM users the script creates: a super user, and two users without any ACL (tests grant them). */
const SCRAM_USERS = Object.freeze(['keel-admin', 'keel-app', 'keel-other']);
const SCRAM_MECHANISM = 'SCRAM-SHA-512';

const HOST = '127.0.0.1';
export const NODE_IDS = Object.freeze([1, 2, 3]);
export const BOOTSTRAP_SERVERS = NODE_IDS.map((id) => `${HOST}:${clientPort(id)}`).join(',');
const QUORUM_VOTERS = NODE_IDS.map((id) => `${id}@${HOST}:${controllerPort(id)}`).join(',');
const DEFAULT_HEAP_OPTS = '-Xms256m -Xmx768m';
const DEFAULT_UP_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

function realCachePath(dir) {
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
}
function clientPort(id) {
  return id * 10_000 + 9092;
}
function controllerPort(id) {
  return id * 10_000 + 9093;
}
/** Port of a node's SASL_SSL (SCRAM-SHA-512) listener: 19094, 29094, 39094. */
export function saslSslPort(id) {
  return id * 10_000 + 9094;
}
/** Bootstrap servers of the SASL_SSL listeners. */
export const SASL_SSL_BOOTSTRAP_SERVERS = NODE_IDS.map((id) => `${HOST}:${saslSslPort(id)}`).join(',');
/** Port of a node's JMX exporter /metrics: 19404, 29404, 39404. */
export function metricsPort(id) {
  return id * 10_000 + 9404;
}
function nodeFiles(id) {
  return {
    config: path.join(CONFIG_DIR, `node-${id}.properties`),
    data: path.join(DATA_DIR, `node-${id}`),
    logs: path.join(LOG_DIR, `node-${id}`),
    serverLog: path.join(LOG_DIR, `node-${id}`, 'server.log'),
    stdout: path.join(LOG_DIR, `node-${id}.out`),
    pid: path.join(RUN_DIR, `node-${id}.pid`),
  };
}
function checkId(id) {
  if (!NODE_IDS.includes(id)) throw new Error(`kafka: no node ${id} (nodes are ${NODE_IDS.join(', ')})`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg) => process.stderr.write(`kafka: ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Java, Maven and the jars

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function checkJava() {
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `kafka: Java not found (${javaBin()}: ${r.error?.message ?? r.stderr}). Kafka 4 needs Java 17 or newer: ` +
        'install a JDK (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.',
    );
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) throw new Error(`kafka: Java ${major || '?'} found; Kafka 4 needs Java 17 or newer.`);
}

function pomHash() {
  return createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

function jarsReady() {
  try {
    return fs.readFileSync(LIBS_STAMP, 'utf8').trim() === pomHash();
  } catch {
    return false;
  }
}

/** Fetch the jars named by infra/kafka/pom.xml into .cache/libs with mvn, unless already there. */
export function ensureJars() {
  if (jarsReady()) return false;
  const running = NODE_IDS.filter((id) => runningPid(id));
  if (running.length > 0 && fs.existsSync(LIBS)) {
    throw new Error(
      `kafka: ${path.relative(ROOT, POM)} changed while nodes ${running.join(', ')} run on the old jars; ` +
        'run `npm run kafka:down` first, then `npm run kafka:up`.',
    );
  }
  const probe = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'kafka: Maven (mvn) not found on PATH; it fetches the Kafka jars from Maven Central once. ' +
        'Install Maven 3.8+ (Debian: apt-get install maven) and a Java 17+ JDK.',
    );
  }
  const tmp = `${LIBS}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`fetching Kafka jars with mvn into ${path.relative(ROOT, LIBS)} ...`);
  const r = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `kafka: mvn dependency:copy-dependencies -f ${path.relative(ROOT, POM)} failed (exit ${r.status}):\n` +
        `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(),
    );
  }
  fs.writeFileSync(path.join(tmp, path.basename(LIBS_STAMP)), `${pomHash()}\n`);
  fs.rmSync(LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, LIBS);
  return true;
}

/** Fetch the Prometheus JMX exporter agent jar with mvn into .cache/agents, unless already there; its path. */
export function ensureJmxAgent() {
  if (fs.existsSync(JMX_AGENT_JAR)) return JMX_AGENT_JAR;
  const dir = path.dirname(JMX_AGENT_JAR);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`fetching the Prometheus JMX exporter agent ${JMX_EXPORTER_VERSION} with mvn ...`);
  const r = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      'dependency:copy',
      `-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:${JMX_EXPORTER_VERSION}`,
      `-DoutputDirectory=${tmp}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024, cwd: INFRA },
  );
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `kafka: mvn dependency:copy of io.prometheus.jmx:jmx_prometheus_javaagent:${JMX_EXPORTER_VERSION} failed (exit ${r.status}):\n` +
        `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(),
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(tmp, path.basename(JMX_AGENT_JAR)), JMX_AGENT_JAR);
  fs.rmSync(tmp, { recursive: true, force: true });
  return JMX_AGENT_JAR;
}

/** The `-javaagent:` flag that serves a JVM's JMX metrics on `HOST:port/metrics` with the Kafka exporter config. */
export function jmxAgentFlag(port, config = JMX_CONFIG_SOURCE) {
  return `-javaagent:${JMX_AGENT_JAR}=${HOST}:${port}:${config}`;
}

/** JVM arguments to run a main class from Kafka's jars (e.g. org.apache.kafka.tools.ProducerPerformance). */
export function kafkaJavaArgs(
  mainClass,
  args = [],
  jvmOpts = ['-Xmx512m'],
  logsDir = path.join(LOG_DIR, 'tools'),
) {
  return [
    ...jvmOpts,
    `-Dlog4j2.configurationFile=${LOG4J_FILE}`,
    `-Dkafka.logs.dir=${logsDir}`,
    '-cp',
    `${LIBS}${path.sep}*`,
    mainClass,
    ...args,
  ];
}
export { javaBin };

// ---------------------------------------------------------------------------------------------
// Configuration

function nodeProperties(id) {
  const f = nodeFiles(id);
  const props = {
    // KRaft, combined mode, static quorum
    'process.roles': 'broker,controller',
    'node.id': id,
    'controller.quorum.voters': QUORUM_VOTERS,
    listeners: `PLAINTEXT://${HOST}:${clientPort(id)},CONTROLLER://${HOST}:${controllerPort(id)},SASL_SSL://${HOST}:${saslSslPort(id)}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${clientPort(id)},SASL_SSL://${HOST}:${saslSslPort(id)}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
    // SASL_SSL: TLS with the throwaway CA's certificate, SCRAM users from the cluster metadata
    'sasl.enabled.mechanisms': SCRAM_MECHANISM,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.location': BROKER_KEYSTORE,
    // ACLs: the loopback PLAINTEXT listener (the rest of the tests, the brokers and controllers themselves)
    // stays unrestricted as User:ANONYMOUS; a SCRAM user other than keel-admin needs ACLs
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:ANONYMOUS;User:keel-admin',
    'allow.everyone.if.no.acl.found': false,
    'log.dirs': f.data,
    // durability, as in production
    'default.replication.factor': 3,
    'min.insync.replicas': 2,
    'num.partitions': 3,
    'offsets.topic.replication.factor': 3,
    'offsets.topic.num.partitions': 12,
    'transaction.state.log.replication.factor': 3,
    'transaction.state.log.min.isr': 2,
    'transaction.state.log.num.partitions': 12,
    'share.coordinator.state.topic.replication.factor': 3,
    'share.coordinator.state.topic.min.isr': 2,
    'unclean.leader.election.enable': false,
    // Topics are declared (defineTopic + `keel topics apply`, tests create theirs): a typo must
    // fail loudly instead of silently creating a topic with broker defaults.
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    // a restarted node may re-register only once its previous incarnation's session expired, and a
    // SIGKILLed broker is fenced only then: 5 s instead of 9 s (heartbeats every second)
    'broker.heartbeat.interval.ms': 1000,
    'broker.session.timeout.ms': 5000,
    // fast groups for tests (joins, failover)
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    'group.consumer.min.session.timeout.ms': 1000,
    'group.consumer.min.heartbeat.interval.ms': 500,
    // small footprint on a 2-core box
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.replica.fetchers': 1,
    'background.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'log.segment.bytes': 32 * 1024 * 1024,
    'log.index.size.max.bytes': 1024 * 1024,
    'log.retention.hours': 24,
    'log.retention.check.interval.ms': 60_000,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

const LOG4J2_PROPERTIES = `# generated by scripts/kafka.mjs
status = warn
name = keel-kafka
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.filePattern = \${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
`;

function writeIfChanged(file, content) {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return;
  } catch {}
  fs.writeFileSync(file, content);
}

function writeConfigs() {
  for (const dir of [CONFIG_DIR, DATA_DIR, LOG_DIR, RUN_DIR]) fs.mkdirSync(dir, { recursive: true });
  writeIfChanged(LOG4J_FILE, LOG4J2_PROPERTIES);
  writeIfChanged(JMX_CONFIG, fs.readFileSync(JMX_CONFIG_SOURCE, 'utf8'));
  ensureSecurityFiles();
  for (const id of NODE_IDS) writeIfChanged(nodeFiles(id).config, nodeProperties(id));
}

/** Kafka's Uuid string form: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
function newClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function readMetaClusterId(id) {
  try {
    const meta = fs.readFileSync(path.join(nodeFiles(id).data, 'meta.properties'), 'utf8');
    return /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function clusterId() {
  let cid;
  try {
    cid = fs.readFileSync(CLUSTER_ID_FILE, 'utf8').trim();
  } catch {}
  cid ||= NODE_IDS.map(readMetaClusterId).find(Boolean) || newClusterId();
  writeIfChanged(CLUSTER_ID_FILE, `${cid}\n`);
  return cid;
}

async function formatStorage(ids) {
  const cid = clusterId();
  const todo = ids.filter((id) => !fs.existsSync(path.join(nodeFiles(id).data, 'meta.properties')));
  await Promise.all(
    todo.map((id) =>
      runTool('kafka.tools.StorageTool', [
        'format',
        '-t',
        cid,
        '-c',
        nodeFiles(id).config,
        '--ignore-formatted',
      ]).catch((error) => {
        throw new Error(`kafka: formatting node ${id} storage failed: ${error.message}`);
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Security: the throwaway CA, the brokers' certificate, the SCRAM users

function openssl(args, cwd) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `kafka: openssl ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr ?? ''}`.trim() +
        (r.error ? ' (Debian: apt-get install openssl)' : ''),
    );
  }
}

/** A CA and one certificate for 127.0.0.1/localhost signed by it (all nodes share the host); PEM keystore. */
function makeCertificates() {
  const tmp = `${SECURITY_DIR}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const days = '3650';
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      days,
      '-subj',
      '/CN=Keel test cluster CA',
    ],
    tmp,
  );
  fs.writeFileSync(
    path.join(tmp, 'broker.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr',
      '-subj',
      '/CN=127.0.0.1',
    ],
    tmp,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'broker.pem',
      '-days',
      days,
      '-extfile',
      'broker.ext',
    ],
    tmp,
  );
  const read = (f) => fs.readFileSync(path.join(tmp, f), 'utf8');
  fs.writeFileSync(
    path.join(tmp, 'broker-keystore.pem'),
    `${read('broker.key')}${read('broker.pem')}${read('ca.pem')}`,
  );
  fs.mkdirSync(SECURITY_DIR, { recursive: true, mode: 0o700 });
  fs.renameSync(path.join(tmp, 'ca.key'), CA_KEY);
  fs.renameSync(path.join(tmp, 'ca.pem'), CA_CERT);
  fs.renameSync(path.join(tmp, 'broker-keystore.pem'), BROKER_KEYSTORE);
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** The CA, the brokers' keystore and the SCRAM passwords, made once in .cache/security. */
export function ensureSecurityFiles() {
  fs.mkdirSync(SECURITY_DIR, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(CA_CERT) || !fs.existsSync(BROKER_KEYSTORE)) makeCertificates();
  if (!fs.existsSync(CREDENTIALS_FILE)) {
    const users = Object.fromEntries(SCRAM_USERS.map((name) => [name, randomBytes(18).toString('hex')]));
    fs.writeFileSync(
      CREDENTIALS_FILE,
      `${JSON.stringify({ mechanism: SCRAM_MECHANISM, users }, null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
  }
}

/**
 * How to reach the SASL_SSL listeners: bootstrap servers, the CA's PEM file, the SCRAM mechanism and the users'
 * passwords (keel-admin is a super user; the others have no ACL until one is created). Throws when the files are
 * missing (`npm run kafka:up` makes them).
 */
export function securityInfo() {
  let credentials;
  try {
    credentials = JSON.parse(fs.readFileSync(CREDENTIALS_FILE, 'utf8'));
  } catch (e) {
    throw new Error(
      `kafka: no SCRAM credentials in ${CREDENTIALS_FILE} (${e.message}); run \`npm run kafka:up\``,
    );
  }
  return {
    bootstrapServers: SASL_SSL_BOOTSTRAP_SERVERS,
    caFile: CA_CERT,
    mechanism: credentials.mechanism,
    users: credentials.users,
  };
}

/** Create or update the SCRAM users (an upsert, through the PLAINTEXT listener) unless this cluster has them. */
async function ensureScramUsers(clusterId) {
  const { users } = securityInfo();
  const stamp = `${clusterId} ${createHash('sha256').update(JSON.stringify(users)).digest('hex')}\n`;
  try {
    if (fs.readFileSync(SCRAM_STAMP, 'utf8') === stamp) return false;
  } catch {}
  await Promise.all(
    Object.entries(users).map(([name, password]) =>
      runTool('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        `${HOST}:${clientPort(NODE_IDS[0])}`,
        '--alter',
        '--add-config',
        `${SCRAM_MECHANISM}=[iterations=4096,password=${password}]`,
        '--entity-type',
        'users',
        '--entity-name',
        name,
      ]),
    ),
  );
  fs.writeFileSync(SCRAM_STAMP, stamp);
  return true;
}

/** Run a main class from Kafka's jars to completion; rejects with its output when it fails. */
function runTool(mainClass, args) {
  return new Promise((resolve, reject) => {
    const jvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
    const child = spawn(javaBin(), kafkaJavaArgs(mainClass, args, jvm), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kafka: ${mainClass} failed (exit ${code}):\n${out}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Processes

function readPid(id) {
  try {
    const pid = Number(fs.readFileSync(nodeFiles(id).pid, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** True when pid is alive and is this node's broker (guards against a recycled pid). */
function isOurBroker(id, pid) {
  if (!pid || !processAlive(pid)) return false;
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const r = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    cmd = r.stdout ?? '';
  }
  if (cmd.includes('<defunct>')) return false;
  try {
    if (/^\S+\s+\S+\s+Z/m.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false; // zombie
  } catch {}
  return cmd.includes('kafka.Kafka') && cmd.includes(nodeFiles(id).config);
}

function runningPid(id) {
  const pid = readPid(id);
  return isOurBroker(id, pid) ? pid : undefined;
}

function portOpen(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Whether a node's JMX exporter answers (a node started before the agent was added has none until restarted). */
async function exporterState(id) {
  const url = `http://${HOST}:${metricsPort(id)}/metrics`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return `${url} (JMX exporter, HTTP ${response.status})`;
  } catch {
    return `${url} does not answer: the node runs without the JMX exporter until its next start`;
  }
}

function heapOpts() {
  return (process.env.KEEL_KAFKA_HEAP_OPTS || DEFAULT_HEAP_OPTS).split(/\s+/).filter(Boolean);
}

async function spawnNode(id) {
  const f = nodeFiles(id);
  for (const port of [clientPort(id), controllerPort(id), saslSslPort(id), metricsPort(id)]) {
    if (await portOpen(port)) {
      throw new Error(
        `kafka: port ${port} (node ${id}) is already in use by another process; ` +
          'stop it (another Kafka, docker compose?) or run `npm run kafka:down`.',
      );
    }
  }
  fs.mkdirSync(f.logs, { recursive: true });
  logMarks.set(id, { serverLog: fileSize(f.serverLog), stdout: fileSize(f.stdout) });
  const out = fs.openSync(f.stdout, 'a');
  fs.writeSync(out, `\n==== ${new Date().toISOString()} starting node ${id}\n`);
  const jvm = [
    ...heapOpts(),
    '-XX:+UseSerialGC',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:MaxMetaspaceSize=256m',
    '-Djava.awt.headless=true',
    jmxAgentFlag(metricsPort(id), JMX_CONFIG),
    ...(process.env.KEEL_KAFKA_JVM_OPTS || '').split(/\s+/).filter(Boolean),
  ];
  const args = kafkaJavaArgs('kafka.Kafka', [f.config], jvm, f.logs);
  const child = spawn(javaBin(), args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pid = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve(child.pid));
  });
  child.unref();
  fs.writeFileSync(f.pid, `${pid}\n`);
  return pid;
}

/** Where each log ended when this process last started the node: failure reports show only what follows. */
const logMarks = new Map();

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function tail(file, from, lines) {
  try {
    const text = fs.readFileSync(file).subarray(from).toString('utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(nothing written since the start)';
  } catch {
    return '(no such file)';
  }
}

function failureReport(id, why) {
  const f = nodeFiles(id);
  const mark = logMarks.get(id) ?? { serverLog: 0, stdout: 0 };
  return (
    `kafka: node ${id} ${why}.\n  log:    ${f.serverLog}\n  stdout: ${f.stdout}\n` +
    `---- last lines of ${path.relative(ROOT, f.stdout)} ----\n${tail(f.stdout, mark.stdout, 15)}\n` +
    `---- last lines of ${path.relative(ROOT, f.serverLog)} ----\n${tail(f.serverLog, mark.serverLog, 30)}`
  );
}

async function acquireLock(timeoutMs) {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rmSync(LOCK_FILE, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim() || 0);
      if (!holder || !processAlive(holder)) {
        fs.rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`kafka: another \`kafka up\` (pid ${holder}) holds ${LOCK_FILE}`);
      await sleep(250);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Minimal Kafka protocol client: DescribeCluster and DescribeQuorum (health checks only)

class Writer {
  constructor() {
    this.parts = [];
  }
  int8(v) {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  int16(v) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  uvarint(v) {
    const bytes = [];
    let n = v >>> 0;
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  string(s) {
    const b = Buffer.from(s, 'utf8');
    this.int16(b.length);
    this.parts.push(b);
    return this;
  }
  compactString(s) {
    const b = Buffer.from(s, 'utf8');
    this.uvarint(b.length + 1);
    this.parts.push(b);
    return this;
  }
  tags() {
    return this.uvarint(0);
  }
  buffer() {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }
  int8() {
    const v = this.buf.readInt8(this.pos);
    this.pos += 1;
    return v;
  }
  int16() {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32() {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  int64() {
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  uvarint() {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v >>> 0;
      shift += 7;
    }
  }
  compactString() {
    const n = this.uvarint();
    if (n === 0) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + n - 1);
    this.pos += n - 1;
    return s;
  }
  compactArray(item) {
    const n = this.uvarint();
    const out = [];
    for (let i = 0; i < n - 1; i++) out.push(item(this));
    return out;
  }
  tags() {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.pos += this.uvarint();
    }
  }
}

let correlation = 0;

/** One request on a fresh connection; resolves with the response body (after the response header). */
function kafkaRequest(port, apiKey, version, body, { flexible, timeoutMs = 2000 }) {
  const id = ++correlation & 0x7fffffff;
  const header = new Writer().int16(apiKey).int16(version).int32(id).string('keel-kafka-script');
  if (flexible) header.tags();
  const payload = Buffer.concat([header.buffer(), body]);
  const frame = Buffer.concat([new Writer().int32(payload.length).buffer(), payload]);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    let buf = Buffer.alloc(0);
    const fail = (err) => {
      sock.destroy();
      reject(err);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`timeout after ${timeoutMs} ms`)));
    sock.once('error', fail);
    sock.once('close', () => reject(new Error('connection closed')));
    sock.once('connect', () => sock.write(frame));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const len = buf.readInt32BE(0);
      if (buf.length < 4 + len) return;
      sock.destroy();
      const r = new Reader(buf.subarray(4, 4 + len));
      if (r.int32() !== id) return reject(new Error('correlation id mismatch'));
      // flexible versions answer with response header v1 (tagged fields after the correlation id)
      if (flexible) r.tags();
      resolve(r);
    });
  });
}

/** DescribeCluster v0 (key 60): cluster id and the registered, unfenced brokers as the node sees them. */
async function describeCluster(port) {
  const body = new Writer().int8(0).tags().buffer();
  const r = await kafkaRequest(port, 60, 0, body, { flexible: true });
  r.int32(); // throttle
  const error = r.int16();
  const errorMessage = r.compactString();
  if (error !== 0) throw new Error(`DescribeCluster error ${error}: ${errorMessage}`);
  const clusterId = r.compactString();
  const controllerId = r.int32();
  const brokers = r.compactArray((x) => {
    const b = { id: x.int32(), host: x.compactString(), port: x.int32(), rack: x.compactString() };
    x.tags();
    return b;
  });
  return { clusterId, controllerId, brokers: brokers.sort((a, b) => a.id - b.id) };
}

/** DescribeQuorum v0 (key 55), forwarded by the broker to the active controller. */
async function describeQuorum(port) {
  const body = new Writer().uvarint(2).compactString('__cluster_metadata').uvarint(2).int32(0).tags();
  body.tags().tags();
  const r = await kafkaRequest(port, 55, 0, body.buffer(), { flexible: true });
  const error = r.int16();
  if (error !== 0) throw new Error(`DescribeQuorum error ${error}`);
  const replica = (x) => {
    const s = { id: x.int32(), logEndOffset: Number(x.int64()) };
    x.tags();
    return s;
  };
  const topics = r.compactArray((t) => {
    const name = t.compactString();
    const partitions = t.compactArray((p) => {
      const q = {
        partition: p.int32(),
        error: p.int16(),
        leaderId: p.int32(),
        leaderEpoch: p.int32(),
        highWatermark: Number(p.int64()),
        voters: p.compactArray(replica),
        observers: p.compactArray(replica),
      };
      p.tags();
      return q;
    });
    t.tags();
    return { name, partitions };
  });
  const p = topics[0]?.partitions[0];
  if (p?.error !== 0) throw new Error(`DescribeQuorum partition error ${p?.error}`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Health

/**
 * Each node: process, port, and what it answers. Healthy when every node runs, answers, sees all
 * three brokers registered and unfenced, and the quorum has a leader with three voters.
 */
export async function clusterHealth() {
  const nodes = await Promise.all(
    NODE_IDS.map(async (id) => {
      const f = nodeFiles(id);
      const pid = runningPid(id);
      const n = {
        id,
        pid: pid ?? null,
        running: pid !== undefined,
        host: HOST,
        port: clientPort(id),
        controllerPort: controllerPort(id),
        answers: false,
        brokersSeen: [],
        clusterId: null,
        error: null,
        logFile: f.serverLog,
        dataDir: f.data,
      };
      try {
        const c = await describeCluster(n.port);
        n.answers = true;
        n.clusterId = c.clusterId;
        n.brokersSeen = c.brokers.map((b) => b.id);
      } catch (e) {
        n.error = e.message;
      }
      return n;
    }),
  );
  let quorum = null;
  const asker = nodes.find((n) => n.answers);
  if (asker) {
    try {
      const q = await describeQuorum(asker.port);
      quorum = {
        leaderId: q.leaderId,
        leaderEpoch: q.leaderEpoch,
        highWatermark: q.highWatermark,
        voters: q.voters,
      };
    } catch (e) {
      quorum = { leaderId: -1, error: e.message };
    }
  }
  const healthy =
    nodes.every((n) => n.running && n.answers && NODE_IDS.every((id) => n.brokersSeen.includes(id))) &&
    quorum !== null &&
    quorum.leaderId >= 0 &&
    (quorum.voters?.length ?? 0) === NODE_IDS.length;
  return { healthy, bootstrapServers: BOOTSTRAP_SERVERS, quorum, nodes };
}

/** Per node: id, pid (null if not running), ports, log and data paths. Cheap: no network. */
export function nodeInfo() {
  return NODE_IDS.map((id) => {
    const f = nodeFiles(id);
    const pid = runningPid(id);
    return {
      id,
      pid: pid ?? null,
      running: pid !== undefined,
      host: HOST,
      port: clientPort(id),
      bootstrap: `${HOST}:${clientPort(id)}`,
      controllerPort: controllerPort(id),
      logFile: f.serverLog,
      stdoutFile: f.stdout,
      dataDir: f.data,
    };
  });
}

async function waitHealthy({ timeoutMs, watch, want = () => true }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    for (const id of watch) {
      if (!runningPid(id)) {
        throw new Error(failureReport(id, 'exited while starting'));
      }
    }
    last = await clusterHealth();
    if (last.healthy && want(last)) return last;
    if (Date.now() > deadline) {
      const bad =
        last.nodes.find((n) => !n.answers || n.brokersSeen.length < NODE_IDS.length) ?? last.nodes[0];
      throw new Error(
        `${failureReport(bad.id, `not healthy after ${timeoutMs} ms`)}\n` +
          `---- health ----\n${JSON.stringify({ quorum: last.quorum, nodes: last.nodes }, null, 2)}`,
      );
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

function upTimeout(opts) {
  return opts?.timeoutMs ?? (Number(process.env.KEEL_KAFKA_UP_TIMEOUT_MS) || DEFAULT_UP_TIMEOUT_MS);
}

/**
 * Start whatever nodes are not running (fetching jars and formatting storage first if needed) and
 * wait until the cluster is healthy. Does nothing but the health check when all three run.
 * Resolves with { bootstrapServers, clusterId, started: [ids], health }.
 */
export async function ensureCluster(opts = {}) {
  const timeoutMs = upTimeout(opts);
  fs.mkdirSync(CACHE, { recursive: true });
  const release = await acquireLock(timeoutMs);
  try {
    const missing = NODE_IDS.filter((id) => !runningPid(id));
    if (missing.length > 0) {
      checkJava();
      ensureJars();
      ensureJmxAgent();
      writeConfigs();
      await formatStorage(missing);
      for (const id of missing) {
        const pid = await spawnNode(id);
        if (!opts.quiet) log(`started node ${id} (pid ${pid}, ${HOST}:${clientPort(id)})`);
      }
    }
    let health = await waitHealthy({ timeoutMs, watch: NODE_IDS });
    const restarted = await restartOutdatedNodes({ timeoutMs, quiet: opts.quiet });
    if (restarted.length > 0) health = await waitHealthy({ timeoutMs, watch: NODE_IDS });
    const clusterId = health.nodes[0]?.clusterId ?? null;
    await ensureScramUsers(clusterId);
    return { bootstrapServers: BOOTSTRAP_SERVERS, clusterId, started: missing, restarted, health };
  } finally {
    release();
  }
}

/**
 * Nodes started before their configuration had the SASL_SSL listener (its port does not answer) are restarted
 * one at a time: each only once every partition is fully replicated again, so the cluster keeps serving and
 * never has fewer than two of three replicas in sync.
 */
async function restartOutdatedNodes({ timeoutMs, quiet }) {
  const outdated = [];
  for (const id of NODE_IDS) if (!(await portOpen(saslSslPort(id)))) outdated.push(id);
  if (outdated.length === 0) return outdated;
  checkJava();
  ensureJars();
  ensureJmxAgent();
  writeConfigs();
  for (const id of outdated) {
    await waitFullyReplicated(timeoutMs);
    if (!quiet) log(`restarting node ${id}: its running configuration has no SASL_SSL listener`);
    await stopNode(id);
    await waitPortsClosed(id, 30_000);
    await spawnNode(id);
    await waitHealthy({ timeoutMs, watch: [id] });
    if (!(await portOpen(saslSslPort(id)))) {
      throw new Error(failureReport(id, `restarted without its SASL_SSL listener on ${saslSslPort(id)}`));
    }
  }
  await waitFullyReplicated(timeoutMs);
  return outdated;
}

/** The process is gone a moment before the kernel releases its listening ports. */
async function waitPortsClosed(id, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const ports = [clientPort(id), controllerPort(id), saslSslPort(id), metricsPort(id)];
  while (Date.now() < deadline) {
    const open = await Promise.all(ports.map((port) => portOpen(port)));
    if (!open.includes(true)) return;
    await sleep(200);
  }
}

/** Sum of the nodes' under-replicated partitions, from their JMX exporters (undefined if one does not answer). */
async function underReplicatedPartitions() {
  let total = 0;
  for (const id of NODE_IDS) {
    try {
      const response = await fetch(`http://${HOST}:${metricsPort(id)}/metrics`, {
        signal: AbortSignal.timeout(3000),
      });
      const text = await response.text();
      const m = /^kafka_server_replicamanager_underreplicatedpartitions\s+(\S+)$/m.exec(text);
      if (!m) return undefined;
      total += Number(m[1]);
    } catch {
      return undefined;
    }
  }
  return total;
}

/** A node started before the JMX exporter existed has none: its replication state cannot be seen. */
const EXPORTER_GRACE_MS = 10_000;
const BLIND_SETTLE_MS = 15_000;

async function waitFullyReplicated(timeoutMs) {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (;;) {
    const count = await underReplicatedPartitions();
    if (count === 0) return;
    if (count === undefined && Date.now() - started > EXPORTER_GRACE_MS) {
      log(`a JMX exporter does not answer: cannot see replication, waiting ${BLIND_SETTLE_MS} ms instead`);
      await sleep(BLIND_SETTLE_MS);
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `kafka: ${count ?? 'an unknown number of'} partitions still under-replicated after ${timeoutMs} ms ` +
          '(see the JMX exporters on <id>9404/metrics); not restarting another node',
      );
    }
    await sleep(500);
  }
}

async function waitExit(id, pid, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isOurBroker(id, pid)) return true;
    await sleep(100);
  }
  return !isOurBroker(id, pid);
}

/** Stop one node: SIGTERM (controlled shutdown), SIGKILL after timeoutMs. */
export async function stopNode(id, { timeoutMs = STOP_TIMEOUT_MS } = {}) {
  checkId(id);
  const pid = runningPid(id);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitExit(id, pid, timeoutMs))) {
      log(`node ${id} (pid ${pid}) still running after ${timeoutMs} ms: SIGKILL`);
      process.kill(pid, 'SIGKILL');
      await waitExit(id, pid, 10_000);
    }
  }
  fs.rmSync(nodeFiles(id).pid, { force: true });
  return pid ?? null;
}

/** SIGKILL one node (broker-failure tests) and wait until the process is gone. Returns its pid. */
export async function killNode(id) {
  checkId(id);
  const pid = runningPid(id);
  if (!pid) throw new Error(`kafka: node ${id} is not running`);
  process.kill(pid, 'SIGKILL');
  await waitExit(id, pid, 10_000);
  fs.rmSync(nodeFiles(id).pid, { force: true });
  return pid;
}

/**
 * Start one node if it is not running and wait until the cluster is healthy again (the node is
 * back in the quorum and registered as a broker). Partitions may still be under-replicated for a
 * moment after this resolves: tests that need full ISR should poll their client's metadata.
 */
export async function startNode(id, opts = {}) {
  checkId(id);
  const timeoutMs = upTimeout(opts);
  const release = await acquireLock(timeoutMs);
  try {
    let pid = runningPid(id);
    if (!pid) {
      ensureJars();
      ensureJmxAgent();
      writeConfigs();
      await formatStorage([id]);
      pid = await spawnNode(id);
    }
    await waitHealthy({ timeoutMs, watch: [id] });
    return pid;
  } finally {
    release();
  }
}

/**
 * Stop every node: SIGTERM to all at once, then wait for each to exit; purge: delete data, logs
 * and configs.
 *
 * A node's controlled shutdown runs its broker first, and the broker waits (Kafka: up to 5 min)
 * until the controller quorum commits its shutdown; the node's controller leaves only after
 * that. Signalling every node at the same instant lets all three brokers ask while the quorum is
 * whole. The last quorum leader then spends Kafka's fixed 5 s trying to hand leadership over
 * before it exits: that is the floor of a clean stop. A node whose broker asked too late (a JVM
 * slow to react) can never be answered once fewer than two nodes run: it is SIGKILLed as soon as
 * that is certain instead of after timeoutMs.
 */
export async function stopCluster({ purge = false, timeoutMs = STOP_TIMEOUT_MS } = {}) {
  const nodes = NODE_IDS.map((id) => ({
    id,
    pid: runningPid(id),
    logFrom: fileSize(nodeFiles(id).serverLog),
  }));
  for (const n of nodes) if (n.pid) process.kill(n.pid, 'SIGTERM');
  await Promise.all(nodes.map((n) => n.pid && awaitClusterNodeExit(n, nodes, timeoutMs)));
  for (const n of nodes) fs.rmSync(nodeFiles(n.id).pid, { force: true });
  if (purge) {
    for (const dir of [DATA_DIR, LOG_DIR, CONFIG_DIR, RUN_DIR])
      fs.rmSync(dir, { recursive: true, force: true });
  }
  return nodes.map((n) => n.pid ?? null);
}

const QUORUM_MAJORITY = Math.floor(NODE_IDS.length / 2) + 1;

async function awaitClusterNodeExit(node, nodes, timeoutMs) {
  const { id, pid } = node;
  const deadline = Date.now() + timeoutMs;
  while (isOurBroker(id, pid)) {
    const alive = nodes.filter((n) => n.pid && isOurBroker(n.id, n.pid)).length;
    if (alive < QUORUM_MAJORITY && awaitsShutdownGrant(node)) {
      log(
        `node ${id} (pid ${pid}): its broker still waits for the controller quorum to grant its ` +
          'shutdown and no quorum is left to answer: SIGKILL',
      );
      break;
    }
    if (Date.now() > deadline) {
      log(`node ${id} (pid ${pid}) still running after ${timeoutMs} ms: SIGKILL`);
      break;
    }
    await sleep(100);
  }
  if (isOurBroker(id, pid)) {
    process.kill(pid, 'SIGKILL');
    await waitExit(id, pid, 10_000);
  }
}

/** The node's log since SIGTERM: its broker began a controlled shutdown the controller has not yet granted. */
function awaitsShutdownGrant({ id, logFrom }) {
  const file = nodeFiles(id).serverLog;
  const size = fileSize(file);
  let text = '';
  try {
    text = fs
      .readFileSync(file)
      .subarray(size < logFrom ? 0 : logFrom)
      .toString('utf8');
  } catch {
    return false;
  }
  const manager = `[BrokerLifecycleManager id=${id}]`;
  return (
    text.includes(`${manager} Beginning controlled shutdown`) &&
    !text.includes(`${manager} The controller has asked us to exit controlled shutdown`)
  );
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'up') {
    const t0 = Date.now();
    const r = await ensureCluster();
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(
      r.started.length
        ? `kafka: cluster ${r.clusterId} up in ${secs}s (started nodes ${r.started.join(', ')})`
        : `kafka: cluster ${r.clusterId} ${r.restarted.length ? `restarted nodes ${r.restarted.join(', ')} one at a time` : 'already running'} (in ${secs}s)`,
    );
    console.log(`KEEL_KAFKA_BROKERS=${r.bootstrapServers}`);
  } else if (cmd === 'down') {
    const purge = rest.includes('--purge');
    const stopped = await stopCluster({ purge });
    const n = stopped.filter(Boolean).length;
    console.log(`kafka: stopped ${n} node(s)${purge ? '; data purged' : ''}`);
  } else if (cmd === 'status') {
    const h = await clusterHealth();
    const q = h.quorum;
    console.log(`bootstrap: ${h.bootstrapServers}`);
    console.log(
      `cluster:   ${h.healthy ? 'healthy' : 'NOT healthy'}; quorum leader ${q ? q.leaderId : '-'}` +
        (q?.voters ? `, voters ${q.voters.map((v) => `${v.id}@${v.logEndOffset}`).join(' ')}` : '') +
        (q?.error ? ` (${q.error})` : ''),
    );
    for (const n of h.nodes) {
      const state = n.running ? (n.answers ? 'up' : 'starting/unresponsive') : 'stopped';
      const seen = n.answers ? `brokers seen [${n.brokersSeen.join(',')}]` : (n.error ?? '');
      console.log(
        `node ${n.id}  pid ${String(n.pid ?? '-').padEnd(8)} ${n.host}:${n.port} (controller ${n.controllerPort})  ${state.padEnd(9)} ${seen}`,
      );
    }
    for (const n of h.nodes)
      if (n.running) console.log(`log ${n.id}: ${path.relative(process.cwd(), n.logFile)}`);
    for (const n of h.nodes) if (n.running) console.log(`metrics ${n.id}: ${await exporterState(n.id)}`);
    for (const n of h.nodes) {
      const port = saslSslPort(n.id);
      const state = (await portOpen(port))
        ? 'SCRAM-SHA-512 over TLS'
        : 'not listening (`up` restarts the node)';
      console.log(`sasl_ssl ${n.id}: ${HOST}:${port} ${state}`);
    }
    if (fs.existsSync(CREDENTIALS_FILE))
      console.log(
        `security: CA ${path.relative(process.cwd(), CA_CERT)}, SCRAM users in ${path.relative(process.cwd(), CREDENTIALS_FILE)}`,
      );
    process.exitCode = h.healthy ? 0 : 1;
  } else {
    console.error('usage: node scripts/kafka.mjs up | down [--purge] | status');
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
