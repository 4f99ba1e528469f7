import type avro from 'avsc';
import type { Middleware } from '../../bus/middleware/middleware.ts';
import { ValidationError } from '../../events/errors.ts';
import type { AvroWireCodec } from './avro-wire.ts';
import { UndecodableRecordError } from './wire-errors.ts';

/** The media type of Avro data in Confluent's wire format. */
export const AVRO_CONTENT_TYPE = 'application/avro';

/**
 * Router middleware: decodes the data of `application/avro` events (Confluent's wire format) before the
 * handler and the definition's validation see it, with the consumer's own `reader` schema when given. A
 * record that cannot be decoded is refused as bad input (a ValidationError whose issue's rule is the reason:
 * `wrong_magic_byte`, `unknown_schema_id`, `undecodable_bytes`): not retried, it goes to the dead-letter queue.
 */
export function avroData(codec: AvroWireCodec, reader?: avro.Type): Middleware {
  return (next) => async (event, context) => {
    if (event.datacontenttype !== AVRO_CONTENT_TYPE || !(event.data instanceof Uint8Array)) {
      return next(event, context);
    }
    let data: unknown;
    try {
      data = await codec.decode(event.data, reader);
    } catch (error) {
      if (!(error instanceof UndecodableRecordError)) throw error;
      throw new ValidationError(
        `event ${event.id}: ${error.reason}: ${error.message}`,
        [{ path: 'data', rule: error.reason, message: error.message }],
        event.type,
      );
    }
    return next({ ...event, data }, context);
  };
}
