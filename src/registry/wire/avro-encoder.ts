import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { catalogSchemaInput } from '../catalog-schemas.ts';
import type { SchemaRegistry } from '../schema-registry.ts';
import { AVRO_CONTENT_TYPE } from './avro-data.ts';
import { createAvroWireCodec } from './avro-wire.ts';

/** What the encoder needs. */
export interface AvroEncoderOptions {
  /** The registry holding the catalog's schemas (registered on start by `registerCatalogSchemas`). */
  registry: Pick<SchemaRegistry, 'lookup' | 'schemaById' | 'version'>;
  catalog: Catalog;
  /**
   * The registry API's base URL (e.g. `http://host:7070/registry`), asked per batch since a node knows its
   * address only once listening: events' `dataschema` is `<base>/schemas/ids/<id>`; undefined leaves it out.
   */
  registryUrl: () => string | undefined;
}

/**
 * A publisher's `encoder`: the data of every event whose type declares an Avro schema, already checked
 * against its zod schema, is encoded with that schema's registered id in Confluent's wire format;
 * `datacontenttype` becomes `application/avro` and `dataschema` names the schema in the registry. A schema
 * that is not registered fails the publish (SchemaNotFoundError); data that does not fit it, AvroEncodeError.
 */
export function createAvroEncoder(
  options: AvroEncoderOptions,
): (events: readonly CloudEvent[]) => Promise<CloudEvent[]> {
  const { registry, catalog } = options;
  const codec = createAvroWireCodec(registry);
  const ids = new Map<string, Promise<number>>();
  const idOf = (type: string): Promise<number> | undefined => {
    const definition = catalog.event(type);
    if (definition?.avro === undefined) return undefined;
    let id = ids.get(type);
    if (id === undefined) {
      id = registry.lookup(type, catalogSchemaInput(definition)).then((found) => found.id);
      // A failed lookup is not cached: the catalog may be registered by then.
      id.catch(() => ids.delete(type));
      ids.set(type, id);
    }
    return id;
  };
  const encodeOne = async (event: CloudEvent): Promise<CloudEvent> => {
    // Bytes are data someone else encoded (a forwarded record): left as they are.
    if (event.data instanceof Uint8Array) return event;
    const pending = idOf(event.type);
    if (pending === undefined) return event;
    const id = await pending;
    const base = options.registryUrl();
    return {
      ...event,
      data: await codec.encode(id, event.data),
      datacontenttype: AVRO_CONTENT_TYPE,
      ...(base === undefined ? {} : { dataschema: `${base}/schemas/ids/${id}` }),
    };
  };
  return (events) => Promise.all(events.map(encodeOne));
}
