import type { HandlerContext } from '../../bus/middleware/handler-context.ts';
import type { Middleware } from '../../bus/middleware/middleware.ts';
import type { FieldEncryption, PhiReader } from './field-encryption.ts';

/**
 * Router middleware that opens sealed fields before the handler (and validation) see the event: plain for a
 * reader that may read PHI, `[masked]` otherwise, `[redacted]` once the subject's key is erased.
 */
export function openPhi(encryption: FieldEncryption, reader: PhiReader): Middleware {
  return (next) => async (event, context) => {
    const opened = await encryption.open(event, reader);
    if (context.batch === undefined) return next(opened, context);
    const batch = await Promise.all(context.batch.map((item) => encryption.open(item, reader)));
    return next(batch[0] ?? opened, { ...context, batch } as HandlerContext);
  };
}
