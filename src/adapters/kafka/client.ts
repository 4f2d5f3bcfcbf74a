/** The kafkajs client, with its logs sent to the app's log sink instead of the terminal. */
import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import { readFileSync } from 'node:fs';
import type { KafkaSecurity } from '../../config/config.js';
import type { Logger } from '../../log/logger.js';

function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const child = { ...extra, logger: 'kafkajs' };
      if (level === logLevel.ERROR) logger.error(child, message);
      else if (level === logLevel.WARN) logger.warn(child, message);
      else if (level === logLevel.INFO) logger.info(child, message);
      else logger.debug(child, message);
    };
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId?: string;
  logger: Logger;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: KafkaConfig['retry'];
  security?: KafkaSecurity;
}

/** kafkajs' ssl and sasl settings from ours. */
export function kafkajsSecurity(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (security?.tls) out.ssl = security.tls.ca ? { ca: [readFileSync(security.tls.ca, 'utf8')] } : true;
  if (security?.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password } as KafkaConfig['sasl'];
  }
  return out;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId ?? 'eventstream-tui',
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30000,
    logLevel: logLevel.INFO,
    logCreator: kafkajsLogCreator(options.logger),
    ...(options.retry ? { retry: options.retry } : {}),
    ...kafkajsSecurity(options.security),
  });
}
