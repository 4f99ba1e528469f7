import { z } from 'zod';
import type { Snapshot, StoredEvent, StreamInfo } from '../../store/event-store.ts';

/** JSON shape of a stream in the list. */
export const streamSchema = z.object({
  streamId: z.string(),
  tenantId: z.string(),
  version: z.int().describe('Version of its last event.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  deletedAt: z.iso.datetime().nullable().describe('When it was deleted (tombstoned), or null.'),
});

/** JSON shape of a stored event. */
export const storedEventSchema = z.object({
  streamId: z.string(),
  version: z.int().describe('Version in its stream, from 1.'),
  position: z.string().describe('Global position (64-bit, as digits); may have gaps.'),
  tenantId: z.string(),
  recordedAt: z.iso.datetime(),
  checkpoint: z.string().describe('Opaque: where a read-all resumes right after this event.'),
  event: z.record(z.string(), z.unknown()).describe('The CloudEvent (upcast to the current version).'),
});

/** JSON shape of a snapshot. */
export const snapshotSchema = z.object({
  name: z.string().describe('Aggregate type the state belongs to.'),
  streamVersion: z.int().describe('Version of the last event folded into the state.'),
  stateVersion: z.int().describe("Version of the state's shape."),
  createdAt: z.iso.datetime(),
  state: z.unknown(),
});

/** JSON view of a stream. */
export function streamView(stream: StreamInfo): z.input<typeof streamSchema> {
  return {
    streamId: stream.streamId,
    tenantId: stream.tenantId,
    version: stream.version,
    createdAt: stream.createdAt.toISOString(),
    updatedAt: stream.updatedAt.toISOString(),
    deletedAt: stream.deletedAt?.toISOString() ?? null,
  };
}

/** JSON view of a stored event (binary data as `data_base64`, as the JSON format carries it). */
export function storedEventView(stored: StoredEvent): z.input<typeof storedEventSchema> {
  const event: Record<string, unknown> = { ...stored.event };
  if (event.data instanceof Uint8Array) {
    event.data_base64 = Buffer.from(event.data).toString('base64');
    delete event.data;
  }
  return {
    streamId: stored.streamId,
    version: stored.version,
    position: stored.position.toString(),
    tenantId: stored.tenantId,
    recordedAt: stored.recordedAt.toISOString(),
    checkpoint: stored.checkpoint,
    event,
  };
}

/** JSON view of a snapshot. */
export function snapshotView(snapshot: Snapshot): z.input<typeof snapshotSchema> {
  return {
    name: snapshot.name,
    streamVersion: snapshot.streamVersion,
    stateVersion: snapshot.stateVersion,
    createdAt: snapshot.createdAt.toISOString(),
    state: snapshot.state,
  };
}
