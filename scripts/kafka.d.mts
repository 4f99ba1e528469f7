// Types for scripts/kafka.mjs (the local 3-node Kafka cluster), for tests and benchmarks in TypeScript.

export declare const NODE_IDS: readonly number[];
/** '127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:39092' */
export declare const BOOTSTRAP_SERVERS: string;

/** '127.0.0.1:19094,127.0.0.1:29094,127.0.0.1:39094': the SASL_SSL (SCRAM-SHA-512) listeners */
export declare const SASL_SSL_BOOTSTRAP_SERVERS: string;
/** Port of a node's SASL_SSL listener: 19094, 29094, 39094. */
export declare function saslSslPort(id: number): number;

/** How to reach the SASL_SSL listeners of the local cluster. */
export interface SecurityInfo {
  bootstrapServers: string;
  /** PEM file of the throwaway CA that signed the brokers' certificate */
  caFile: string;
  mechanism: 'SCRAM-SHA-512';
  /** SCRAM user → password: keel-admin (super user), keel-app and keel-other (no ACL of their own) */
  users: Record<'keel-admin' | 'keel-app' | 'keel-other', string>;
}
/** The CA, certificate and SCRAM passwords in infra/kafka/.cache/security; throws when they were never made. */
export declare function securityInfo(): SecurityInfo;
/** Make the CA, the brokers' keystore and the SCRAM passwords unless they exist. */
export declare function ensureSecurityFiles(): void;

export interface NodeInfo {
  id: number;
  pid: number | null;
  running: boolean;
  host: string;
  /** client (PLAINTEXT) port: 19092, 29092, 39092 */
  port: number;
  bootstrap: string;
  /** KRaft controller port: 19093, 29093, 39093 */
  controllerPort: number;
  logFile: string;
  stdoutFile: string;
  dataDir: string;
}

export interface NodeHealth {
  id: number;
  pid: number | null;
  running: boolean;
  host: string;
  port: number;
  controllerPort: number;
  /** answered a DescribeCluster request */
  answers: boolean;
  /** registered, unfenced broker ids as this node sees them */
  brokersSeen: number[];
  clusterId: string | null;
  error: string | null;
  logFile: string;
  dataDir: string;
}

export interface ClusterHealth {
  /** all nodes run and answer, each sees all 3 brokers, the quorum has a leader and 3 voters */
  healthy: boolean;
  bootstrapServers: string;
  quorum: {
    leaderId: number;
    leaderEpoch?: number;
    highWatermark?: number;
    voters?: { id: number; logEndOffset: number }[];
    error?: string;
  } | null;
  nodes: NodeHealth[];
}

export interface EnsureClusterResult {
  bootstrapServers: string;
  clusterId: string | null;
  /** node ids this call started (empty when the cluster was already running) */
  started: number[];
  /** node ids restarted one at a time because they ran without the SASL_SSL listener */
  restarted: number[];
  health: ClusterHealth;
}

/** Start the missing nodes (fetching jars and formatting storage if needed); wait until healthy. */
export declare function ensureCluster(opts?: {
  timeoutMs?: number;
  quiet?: boolean;
}): Promise<EnsureClusterResult>;
/** Stop every node (SIGTERM to all at once; SIGKILL after timeoutMs, or once a node waits on a quorum that is gone); purge deletes data, logs and configs. */
export declare function stopCluster(opts?: {
  purge?: boolean;
  timeoutMs?: number;
}): Promise<(number | null)[]>;
/** Cheap (no network): pid, ports and paths of each node. */
export declare function nodeInfo(): NodeInfo[];
/** Network health check of the cluster (DescribeCluster on each node, DescribeQuorum). */
export declare function clusterHealth(): Promise<ClusterHealth>;
/** SIGKILL one node and wait until its process is gone; resolves with the killed pid. */
export declare function killNode(id: number): Promise<number>;
/** Start one node if not running and wait until the cluster is healthy again; resolves with its pid. */
export declare function startNode(id: number, opts?: { timeoutMs?: number }): Promise<number>;
/** Stop one node cleanly (SIGTERM, SIGKILL after timeoutMs); resolves with its pid or null. */
export declare function stopNode(id: number, opts?: { timeoutMs?: number }): Promise<number | null>;
/** Fetch the jars with mvn unless present; true when it fetched. */
export declare function ensureJars(): boolean;
/** The java executable ($JAVA_HOME/bin/java or java). */
export declare function javaBin(): string;
/** JVM args to run a main class from Kafka's jars, e.g. org.apache.kafka.tools.ProducerPerformance. */
export declare function kafkaJavaArgs(
  mainClass: string,
  args?: string[],
  jvmOpts?: string[],
  logsDir?: string,
): string[];

/** Port of a node's JMX exporter /metrics: 19404, 29404, 39404. */
export declare function metricsPort(id: number): number;
/** Fetches the Prometheus JMX exporter agent jar with mvn unless already there; returns its path. */
export declare function ensureJmxAgent(): string;
/** `-javaagent:<jar>=127.0.0.1:<port>:<config>`; config defaults to infra/monitoring/jmx-exporter/kafka.yml. */
export declare function jmxAgentFlag(port: number, config?: string): string;
