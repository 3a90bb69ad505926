import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { InfraOptions } from '../infra/options.ts';
import { type SchemaName, schemaText } from '../schemas/index.ts';

/** The one place that builds schema-registry clients from the validated endpoint. */
export function createSchemaRegistry(registry: InfraOptions['registry']): SchemaRegistry {
  const auth =
    registry.username !== undefined
      ? { username: registry.username, password: registry.password ?? '' }
      : undefined;
  return new SchemaRegistry({ host: registry.url, auth });
}

/**
 * Registers (or finds) the schema under the Confluent subject `<topic>-value` and returns its id.
 * Idempotent: registering the same schema again returns the same id.
 */
export async function registerValueSchema(
  registry: SchemaRegistry,
  topic: string,
  schema: SchemaName,
): Promise<number> {
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: schemaText(schema) },
    { subject: `${topic}-value` },
  );
  return id;
}
