import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as events from './index.ts';

describe('the events public API', () => {
  it('exports the envelope, codecs, bindings, definitions and errors', () => {
    const functions = [
      'createCatalog',
      'createEvent',
      'dataschemaFor',
      'decodeBatch',
      'decodeHttp',
      'decodeStructured',
      'defineEvent',
      'defineTopic',
      'encodeBatch',
      'encodeHttpBatch',
      'encodeHttpBinary',
      'encodeHttpStructured',
      'encodeStructured',
      'fromRecord',
      'newEventId',
      'parseCloudEvent',
      'parseDataschema',
      'safeParseCloudEvent',
      'toRecord',
      'upcastData',
      'validateEventData',
      'versionOf',
    ];
    for (const name of functions)
      expect(typeof (events as Record<string, unknown>)[name], name).toBe('function');
    expect(new events.ValidationError('x', [])).toBeInstanceOf(Error);
    expect(events.SPEC_VERSION).toBe('1.0');
    expect(events.CLOUDEVENTS_JSON).toBe('application/cloudevents+json');
  });

  it('carries a typed event from creation through Kafka and HTTP back to validated data', () => {
    const Ping = events.defineEvent({ type: 'test.ping', version: 1, schema: z.object({ n: z.number() }) });
    const sent = events.createEvent(Ping, { n: 1 }, { source: '/test', partitionKey: 'k' });
    const overKafka = events.fromRecord(events.toRecord(sent));
    const message = events.encodeHttpBinary(overKafka);
    const [overHttp] = events.decodeHttp(message.headers, message.body);
    expect(events.validateEventData(Ping, overHttp!)).toEqual(sent);
  });
});
