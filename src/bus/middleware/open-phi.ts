import type { CloudEvent } from '../../events/cloud-event.ts';
import type { FieldEncryption, PhiReader } from '../../security/encryption/field-encryption.ts';
import type { HandlerContext } from './handler-context.ts';
import type { HandlerFunction, Middleware } from './middleware.ts';

/**
 * Router middleware that opens sealed fields before the handler (and validation) see the event: plain for a
 * reader that may read PHI, `[masked]` otherwise, `[redacted]` once the subject's key is erased.
 */
export function openPhi(encryption: FieldEncryption, reader: PhiReader): Middleware {
  return (next) => (event, context) => {
    if (context.batch === undefined) {
      // Keys at hand (the usual case once a subject was seen): no promise, so a plain handler stays synchronous.
      const quick = encryption.openIfCached(event, reader);
      if (quick !== undefined) return next(quick, context);
      return encryption.open(event, reader).then((opened) => next(opened, context));
    }
    return openBatch(encryption, reader, next, event, context);
  };
}

async function openBatch(
  encryption: FieldEncryption,
  reader: PhiReader,
  next: HandlerFunction,
  event: CloudEvent,
  context: HandlerContext,
): Promise<void> {
  const batch = await Promise.all((context.batch ?? [event]).map((item) => encryption.open(item, reader)));
  return next(batch[0] ?? (await encryption.open(event, reader)), { ...context, batch });
}
