/**
 * The package's programmatic entry: what a script beside the CLI (the bench, bench/*.ts) may use. The
 * settings as the CLI resolves them, the Kafka client factory and the logger the app uses, and the local
 * stack (`stack up` / `stack down`: bring up what is missing, stop only what it started). Anything not
 * exported here is internal and may move.
 */
// The metrics' counting alone, for its cost per outcome (bench/metrics-cost.ts).
export { PipelineMetrics } from './telemetry/metrics.js';
export { resolveConfig, type Config, type ConfigFlags } from './config/config.js';
export { createKafka, type KafkaClientOptions } from './adapters/kafka/client.js';
export { createLogger, type LogDestination, type Logger } from './log/logger.js';
export { stackPaths, stackPathsSharingJars, type StackPaths } from './stack/paths.js';
export { clusterAddresses, stackDown, stackUp, type DownOutcome, type UpOutcome } from './stack/stack.js';
// The pipeline's producer as the app configures it, for its cost on one node and on three (bench/cluster.ts).
export { KafkaEventLog, PRODUCE_ACKS } from './adapters/kafka/event-log.js';
// The real transports and the provider that routes each channel through its own (bench/transports.ts).
export { createRedis } from './adapters/redis/client.js';
export { RoutingProvider } from './adapters/transport/routing-provider.js';
export type { Transport } from './adapters/transport/transport.js';
export { SmtpTransport } from './adapters/smtp/smtp-transport.js';
export { WebhookTransport } from './adapters/webhook/webhook-transport.js';
export { MqttTransport } from './adapters/mqtt/mqtt-transport.js';
