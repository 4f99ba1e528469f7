import { z } from 'zod';

const portRule = 'expected an integer between 0 and 65535';
const sizeRule = 'expected an integer number of bytes between 1 and 67108864 (64 MiB)';
const brokerRule = 'expected a comma-separated list of host:port';
const MAX_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const rateRule = 'expected requests per second between 0 (off) and 1000000';
const burstRule = 'expected a number of requests between 1 and 1000000';
const retentionRule = `expected milliseconds between 0 (off) and ${MAX_RETENTION_MS} (30 days)`;
const sweepRule = `expected milliseconds between 100 and ${MAX_RETENTION_MS} (30 days)`;

/** Log levels pino accepts, quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The platform node's configuration: one schema, defaults included. A key's value comes from
 * (highest first) a command-line flag, its environment variable, `keel.config.*`, this default.
 */
export const configSchema = z.strictObject({
  /** TCP port of the HTTP API (`KEEL_PORT`); 0 lets the system pick a free one. */
  port: z.int({ error: portRule }).min(0, { error: portRule }).max(65535, { error: portRule }).default(4000),
  /** Interface the HTTP API binds to (`KEEL_HOST`); loopback unless opened on purpose. */
  host: z
    .string({ error: 'expected a host name or IP address' })
    .min(1, { error: 'expected a host name or IP address' })
    .default('127.0.0.1'),
  /** Folder of the embedded SQLite file `keel.db` (`KEEL_DATA_DIR`). */
  dataDir: z
    .string({ error: 'expected a folder path' })
    .min(1, { error: 'expected a folder path' })
    .default('./.keel'),
  /** Bus adapter (`KEEL_TRANSPORT`). */
  transport: z.enum(['embedded', 'kafka'], { error: 'expected "embedded" or "kafka"' }).default('embedded'),
  /** Kafka bootstrap servers (`KEEL_KAFKA_BROKERS`, comma-separated). */
  kafkaBrokers: z
    .array(z.string({ error: brokerRule }).regex(/^[^\s:,]+:\d{1,5}$/, { error: brokerRule }), {
      error: brokerRule,
    })
    .min(1, { error: brokerRule })
    .optional(),
  /** Connect to Kafka over TLS, trusting the system's CAs (`KEEL_KAFKA_TLS`); implied by `kafkaTlsCaFile`. */
  kafkaTls: z.boolean({ error: 'expected true or false' }).optional(),
  /** PEM file of the CA that signed the brokers' certificates (`KEEL_KAFKA_TLS_CA_FILE`). */
  kafkaTlsCaFile: z
    .string({ error: 'expected a file path' })
    .min(1, { error: 'expected a file path' })
    .optional(),
  /** SASL mechanism for Kafka (`KEEL_KAFKA_SASL_MECHANISM`); needs a username and a password. */
  kafkaSaslMechanism: z
    .enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], {
      error: 'expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    })
    .optional(),
  /** SASL username (`KEEL_KAFKA_SASL_USERNAME`). */
  kafkaSaslUsername: z
    .string({ error: 'expected a user name' })
    .min(1, { error: 'expected a user name' })
    .optional(),
  /** SASL password (`KEEL_KAFKA_SASL_PASSWORD`). */
  kafkaSaslPassword: z
    .string({ error: 'expected a password' })
    .min(1, { error: 'expected a password' })
    .optional(),
  /** Event store adapter (`KEEL_STORE`). */
  store: z.enum(['sqlite', 'postgres'], { error: 'expected "sqlite" or "postgres"' }).default('sqlite'),
  /** PostgreSQL connection string (`KEEL_POSTGRES_URL`). */
  postgresUrl: z
    .string({ error: 'expected a postgres:// connection string' })
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'expected a postgres:// connection string' })
    .optional(),
  /** PostgreSQL schema of the event store and the workflow tables (`KEEL_POSTGRES_SCHEMA`). */
  postgresSchema: z
    .string({ error: 'expected a schema name' })
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "expected lower-case letters, digits and '_' (at most 63)" })
    .default('keel'),
  /** Module exporting the Catalog, as default or named `catalog` (`KEEL_CATALOG`); unset loads the example catalog. */
  catalog: z
    .string({ error: 'expected a module path' })
    .min(1, { error: 'expected a module path' })
    .optional(),
  /** Largest encoded event accepted, in bytes (`KEEL_MAX_EVENT_BYTES`). */
  maxEventBytes: z
    .int({ error: sizeRule })
    .min(1, { error: sizeRule })
    .max(64 * 1024 * 1024, { error: sizeRule })
    .default(1024 * 1024),
  /**
   * Event data larger than this many bytes goes to the blob folder and the record carries a claim-check
   * reference (`KEEL_CLAIM_CHECK_BYTES`); unset: no claim check, and events over `maxEventBytes` are refused.
   */
  claimCheckBytes: z
    .int({ error: sizeRule })
    .min(1, { error: sizeRule })
    .max(64 * 1024 * 1024, { error: sizeRule })
    .optional(),
  /** Folder of claim-checked payloads, a subfolder per topic (`KEEL_BLOB_DIR`); default `<dataDir>/blobs`. */
  blobDir: z
    .string({ error: 'expected a folder path' })
    .min(1, { error: 'expected a folder path' })
    .optional(),
  /** Bucket of claim-checked payloads in an S3-compatible store instead of the blob folder (`KEEL_BLOB_S3_BUCKET`). */
  blobS3Bucket: z
    .string({ error: 'expected an S3 bucket name' })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: 'expected an S3 bucket name (3-63 of a-z, 0-9, . and -)',
    })
    .optional(),
  /** URL of an S3-compatible server (MinIO, Ceph, R2...) (`KEEL_BLOB_S3_ENDPOINT`); unset: AWS S3. */
  blobS3Endpoint: z
    .string({ error: 'expected an http(s):// URL' })
    .regex(/^https?:\/\/\S+$/, { error: 'expected an http(s):// URL' })
    .optional(),
  /** Region requests to the bucket are signed for (`KEEL_BLOB_S3_REGION`); default `us-east-1`. */
  blobS3Region: z
    .string({ error: 'expected a region name' })
    .regex(/^[a-z0-9-]{1,64}$/, { error: 'expected a region name, e.g. eu-west-1' })
    .optional(),
  /** Address the bucket in the URL path rather than a subdomain, as most S3-compatible servers need (`KEEL_BLOB_S3_FORCE_PATH_STYLE`). */
  blobS3ForcePathStyle: z.boolean({ error: 'expected true or false' }).default(false),
  /** Milliseconds between sweeps removing blobs older than their topic's retention (`KEEL_BLOB_SWEEP_INTERVAL_MS`). */
  blobSweepIntervalMs: z
    .int({ error: sweepRule })
    .min(100, { error: sweepRule })
    .max(MAX_RETENTION_MS, { error: sweepRule })
    .default(60_000),
  /** Accept events of types not in the catalog onto the topic `keel.untyped` (`KEEL_ALLOW_UNTYPED`). */
  allowUntyped: z.boolean({ error: 'expected true or false' }).default(false),
  /** Pino log level (`KEEL_LOG_LEVEL`). */
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** SQLite `synchronous` mode of the embedded transport (`KEEL_SYNC`): `full` survives power loss, `normal` only process crashes. */
  sync: z.enum(['full', 'normal'], { error: 'expected "full" or "normal"' }).default('full'),
  /**
   * How long `POST /v1/events` remembers a published `source` + `id` (`KEEL_IDEMPOTENCY_RETENTION_MS`): a
   * retry within it gets the first receipt, other content under the same id a 409; 0 turns this off.
   */
  idempotencyRetentionMs: z
    .int({ error: retentionRule })
    .min(0, { error: retentionRule })
    .max(MAX_RETENTION_MS, { error: retentionRule })
    .default(24 * 60 * 60 * 1000),
  /** Allow `GET /v1/topics/:topic/export` (`KEEL_EXPORT_ENABLED`); false answers it with 403 (regulated settings). */
  exportEnabled: z.boolean({ error: 'expected true or false' }).default(true),
  /** Master key of field encryption, base64 or hex of 32 bytes (`KEEL_PHI_MASTER_KEY`); never logged. */
  phiMasterKey: z
    .string({ error: 'expected base64 or hex of 32 bytes' })
    .min(1, { error: 'expected base64 or hex of 32 bytes' })
    .optional(),
  /** File holding the master key of field encryption (`KEEL_PHI_MASTER_KEY_FILE`). */
  phiMasterKeyFile: z
    .string({ error: 'expected a file path' })
    .min(1, { error: 'expected a file path' })
    .optional(),
  /**
   * With authentication off, whether the anonymous identity reads sensitive fields in plain (`KEEL_PHI_READ`);
   * otherwise `[masked]`. With authentication required, each identity's read-PHI permission decides.
   */
  phiRead: z.boolean({ error: 'expected true or false' }).default(false),
  /**
   * Authentication of the HTTP API (`KEEL_AUTH`): `required`, or `off` (every request may do anything). Unset:
   * `off` on a loopback address, `required` on any other.
   */
  auth: z.enum(['required', 'off'], { error: 'expected "required" or "off"' }).optional(),
  /** Let the node start with `KEEL_AUTH=off` on an address other than loopback (`KEEL_AUTH_OFF_ON_NETWORK`). */
  authOffOnNetwork: z.boolean({ error: 'expected true or false' }).default(false),
  /** Issuer of the OpenID Connect tokens accepted (`KEEL_OIDC_ISSUER`); unset: API keys only. */
  oidcIssuer: z.url({ error: 'expected the issuer URL' }).optional(),
  /** Audience the tokens must name (`KEEL_OIDC_AUDIENCE`). */
  oidcAudience: z.string().min(1, { error: 'expected the audience' }).default('keel-api'),
  /** URL of the issuer's JSON Web Key Set (`KEEL_OIDC_JWKS_URL`); unset: from its discovery document. */
  oidcJwksUrl: z.url({ error: 'expected a URL' }).optional(),
  /** Dotted path of the token claim listing Keel roles (`KEEL_OIDC_ROLES_CLAIM`). */
  oidcRolesClaim: z.string().min(1).default('roles'),
  /** Dotted path of the token claim listing tenants (`KEEL_OIDC_TENANTS_CLAIM`). */
  oidcTenantsClaim: z.string().min(1).default('tenants'),
  /** A tenant claim value meaning every tenant, for platform operators (`KEEL_OIDC_ALL_TENANTS`); none by default. */
  oidcAllTenants: z.string().min(1).optional(),
  /**
   * Topic the audit trail is forwarded to (`KEEL_AUDIT_TOPIC`). One trail per topic: nodes sharing a Kafka
   * cluster but not an audit table (their own `security.db`) each need their own.
   */
  auditTopic: z
    .string({ error: 'expected a topic name' })
    .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: "expected a topic name (letters, digits, '.', '_', '-')" })
    .default('keel.audit'),
  /** PEM certificate (chain) file: with `tlsKeyFile`, the node serves HTTPS (`KEEL_TLS_CERT_FILE`). */
  tlsCertFile: z
    .string({ error: 'expected a file path' })
    .min(1, { error: 'expected a file path' })
    .optional(),
  /** PEM private key file of `tlsCertFile` (`KEEL_TLS_KEY_FILE`); never logged. */
  tlsKeyFile: z
    .string({ error: 'expected a file path' })
    .min(1, { error: 'expected a file path' })
    .optional(),
  /** Origins other sites' pages may call the API from (`KEEL_CORS_ORIGINS`); unset: no cross-origin access. */
  corsOrigins: z.array(z.url({ error: 'expected an origin such as https://app.example.com' })).optional(),
  /** Requests per second each identity may sustain (`KEEL_RATE_LIMIT`); 0 turns rate limits off. */
  rateLimit: z
    .int({ error: rateRule })
    .min(0, { error: rateRule })
    .max(1_000_000, { error: rateRule })
    .default(100),
  /** Requests an identity may make at once before the rate applies (`KEEL_RATE_LIMIT_BURST`). */
  rateLimitBurst: z
    .int({ error: burstRule })
    .min(1, { error: burstRule })
    .max(1_000_000, { error: burstRule })
    .default(1000),
  /** Dotted path of the claim listing topic patterns (`KEEL_OIDC_TOPICS_CLAIM`); unset: every topic. */
  oidcTopicsClaim: z.string().min(1).optional(),
  /** Dotted path of the claim listing event-type patterns (`KEEL_OIDC_TYPES_CLAIM`); unset: every type. */
  oidcTypesClaim: z.string().min(1).optional(),
});

/** A validated configuration, every default applied. */
export type KeelConfig = z.output<typeof configSchema>;

/** What a `keel.config.*` file (or a caller) may set; every key optional. */
export type KeelConfigInput = z.input<typeof configSchema>;

/** A configuration key. */
export type ConfigKey = keyof KeelConfig;

/** How the text of an environment variable or flag becomes a value. */
export type TextKind = 'string' | 'integer' | 'boolean' | 'list';

/** Each key's environment variable, command-line flag (when it has one) and text form. */
export const CONFIG_KEYS: Readonly<Record<ConfigKey, { env: string; flag?: string; kind: TextKind }>> = {
  port: { env: 'KEEL_PORT', flag: '--port', kind: 'integer' },
  host: { env: 'KEEL_HOST', flag: '--host', kind: 'string' },
  dataDir: { env: 'KEEL_DATA_DIR', flag: '--data-dir', kind: 'string' },
  transport: { env: 'KEEL_TRANSPORT', kind: 'string' },
  kafkaBrokers: { env: 'KEEL_KAFKA_BROKERS', kind: 'list' },
  kafkaTls: { env: 'KEEL_KAFKA_TLS', kind: 'boolean' },
  kafkaTlsCaFile: { env: 'KEEL_KAFKA_TLS_CA_FILE', kind: 'string' },
  kafkaSaslMechanism: { env: 'KEEL_KAFKA_SASL_MECHANISM', kind: 'string' },
  kafkaSaslUsername: { env: 'KEEL_KAFKA_SASL_USERNAME', kind: 'string' },
  kafkaSaslPassword: { env: 'KEEL_KAFKA_SASL_PASSWORD', kind: 'string' },
  store: { env: 'KEEL_STORE', kind: 'string' },
  postgresUrl: { env: 'KEEL_POSTGRES_URL', kind: 'string' },
  postgresSchema: { env: 'KEEL_POSTGRES_SCHEMA', kind: 'string' },
  catalog: { env: 'KEEL_CATALOG', flag: '--catalog', kind: 'string' },
  maxEventBytes: { env: 'KEEL_MAX_EVENT_BYTES', kind: 'integer' },
  claimCheckBytes: { env: 'KEEL_CLAIM_CHECK_BYTES', kind: 'integer' },
  blobDir: { env: 'KEEL_BLOB_DIR', kind: 'string' },
  blobS3Bucket: { env: 'KEEL_BLOB_S3_BUCKET', kind: 'string' },
  blobS3Endpoint: { env: 'KEEL_BLOB_S3_ENDPOINT', kind: 'string' },
  blobS3Region: { env: 'KEEL_BLOB_S3_REGION', kind: 'string' },
  blobS3ForcePathStyle: { env: 'KEEL_BLOB_S3_FORCE_PATH_STYLE', kind: 'boolean' },
  blobSweepIntervalMs: { env: 'KEEL_BLOB_SWEEP_INTERVAL_MS', kind: 'integer' },
  allowUntyped: { env: 'KEEL_ALLOW_UNTYPED', kind: 'boolean' },
  logLevel: { env: 'KEEL_LOG_LEVEL', flag: '--log-level', kind: 'string' },
  sync: { env: 'KEEL_SYNC', kind: 'string' },
  idempotencyRetentionMs: { env: 'KEEL_IDEMPOTENCY_RETENTION_MS', kind: 'integer' },
  exportEnabled: { env: 'KEEL_EXPORT_ENABLED', kind: 'boolean' },
  phiMasterKey: { env: 'KEEL_PHI_MASTER_KEY', kind: 'string' },
  phiMasterKeyFile: { env: 'KEEL_PHI_MASTER_KEY_FILE', kind: 'string' },
  phiRead: { env: 'KEEL_PHI_READ', kind: 'boolean' },
  auth: { env: 'KEEL_AUTH', kind: 'string' },
  authOffOnNetwork: { env: 'KEEL_AUTH_OFF_ON_NETWORK', kind: 'boolean' },
  oidcIssuer: { env: 'KEEL_OIDC_ISSUER', kind: 'string' },
  oidcAudience: { env: 'KEEL_OIDC_AUDIENCE', kind: 'string' },
  oidcJwksUrl: { env: 'KEEL_OIDC_JWKS_URL', kind: 'string' },
  oidcRolesClaim: { env: 'KEEL_OIDC_ROLES_CLAIM', kind: 'string' },
  oidcTenantsClaim: { env: 'KEEL_OIDC_TENANTS_CLAIM', kind: 'string' },
  oidcAllTenants: { env: 'KEEL_OIDC_ALL_TENANTS', kind: 'string' },
  auditTopic: { env: 'KEEL_AUDIT_TOPIC', kind: 'string' },
  tlsCertFile: { env: 'KEEL_TLS_CERT_FILE', kind: 'string' },
  tlsKeyFile: { env: 'KEEL_TLS_KEY_FILE', kind: 'string' },
  corsOrigins: { env: 'KEEL_CORS_ORIGINS', kind: 'list' },
  rateLimit: { env: 'KEEL_RATE_LIMIT', kind: 'integer' },
  rateLimitBurst: { env: 'KEEL_RATE_LIMIT_BURST', kind: 'integer' },
  oidcTopicsClaim: { env: 'KEEL_OIDC_TOPICS_CLAIM', kind: 'string' },
  oidcTypesClaim: { env: 'KEEL_OIDC_TYPES_CLAIM', kind: 'string' },
};

/** Environment variable naming the configuration file (the `--config` flag wins over it). */
export const CONFIG_FILE_ENV = 'KEEL_CONFIG';

/** File names looked for in the working directory, in this order, when no file is named. */
export const CONFIG_FILE_NAMES = [
  'keel.config.ts',
  'keel.config.js',
  'keel.config.mjs',
  'keel.config.json',
] as const;
