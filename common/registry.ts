import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type SchemaName, schemaText } from '../schemas/index.ts';

/** Where the schema registry is (validated from the environment in runtime/endpoints.ts). */
export interface RegistryEndpoint {
  url: string;
  username?: string;
  password?: string;
}

/** The one place that builds schema-registry clients from the validated endpoint. */
export function createSchemaRegistry(registry: RegistryEndpoint): SchemaRegistry {
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
