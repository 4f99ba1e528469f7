export type { Catalog, CatalogEntry, CatalogSpec } from './catalog.ts';
export { createCatalog } from './catalog.ts';
export type { CloudEvent, ExtensionValue, KeelExtensions } from './cloud-event.ts';
export { SPEC_VERSION } from './cloud-event.ts';
export type { CreateEventOptions } from './create-event.ts';
export { createEvent, validateEventData } from './create-event.ts';
export { dataschemaFor, parseDataschema, versionOf } from './data-schema.ts';
export type { AvroSchemaJson, EventData, EventDefinition, EventSpec, Upcaster } from './define-event.ts';
export { defineEvent } from './define-event.ts';
export type {
  IngestAnswer,
  IngestFailure,
  IngestInput,
  IngestorDefinition,
  IngestorSpec,
  IngestReceipt,
  IngestResult,
} from './define-ingestor.ts';
export { defineIngestor } from './define-ingestor.ts';
export type { TopicCompression, TopicDefinition, TopicSerialization, TopicSpec } from './define-topic.ts';
export { defineTopic } from './define-topic.ts';
export type { CloudEventParseResult } from './envelope.ts';
export { CORE_ATTRIBUTES, isAttributeName, parseCloudEvent, safeParseCloudEvent } from './envelope.ts';
export type { UpcastFailure, ValidationIssue } from './errors.ts';
export { UnknownEventTypeError, UpcastError, ValidationError } from './errors.ts';
export { newEventId } from './event-id.ts';
export type { HttpHeaders, HttpMessage } from './http-binding.ts';
export {
  decodeHttp,
  encodeHttpBatch,
  encodeHttpBinary,
  encodeHttpStructured,
  type HttpMode,
  type HttpReading,
  readHttp,
} from './http-binding.ts';
export {
  CLOUDEVENTS_BATCH_JSON,
  CLOUDEVENTS_JSON,
  decodeBatch,
  decodeStructured,
  encodeBatch,
  encodeStructured,
  toStructuredObject,
} from './json-format.ts';
export type { KafkaRecord, KafkaRecordInput, ToRecordOptions } from './kafka-binding.ts';
export { fromRecord, toRecord } from './kafka-binding.ts';
export { isJsonMediaType, isMediaType, mediaTypeEssence } from './media-type.ts';
export {
  isProtectedValue,
  MASKED_VALUE,
  pointerSegments,
  REDACTED_VALUE,
  SEALED_PREFIX,
} from './sensitive-fields.ts';
export { isTimestamp, timestampToEpochMs } from './timestamp.ts';
export { upcastData } from './upcast.ts';
export { isAbsoluteUri, isUriReference } from './uri.ts';
