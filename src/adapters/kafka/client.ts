/** The kafkajs client, with its logs sent to the app's log sink instead of the terminal. */
import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
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
  });
}
