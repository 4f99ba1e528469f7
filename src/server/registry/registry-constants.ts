/** The media type of Confluent's Schema Registry API; answers carry it. */
export const REGISTRY_MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Where the Confluent-compatible API is mounted on the node: clients take `http://<node>/registry` as their URL. */
export const REGISTRY_PREFIX = '/registry';
