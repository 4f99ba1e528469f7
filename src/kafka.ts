// `keel/kafka`: the Kafka transport, kept out of the main entry point so embedded users never load the client.
export * from './transport/kafka/index.ts';
