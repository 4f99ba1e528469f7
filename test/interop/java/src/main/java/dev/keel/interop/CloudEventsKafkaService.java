package dev.keel.interop;

import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.cloudevents.kafka.CloudEventSerializer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Consumes {@code count} CloudEvents from a topic with the SDK's Kafka deserializer, prints each as a JSON
 * line, and for each publishes a follow-up with the SDK's serializer (binary mode) carrying the consumed
 * event's correlation id, its id as causation id and its trace (same trace id, a new span id).
 *
 * <p>Arguments: brokers group inTopic outTopic count.
 */
public final class CloudEventsKafkaService {
  private static final Pattern SEQ = Pattern.compile("\"seq\"\\s*:\\s*(\\d+)");
  private static final Pattern KEY = Pattern.compile("\"key\"\\s*:\\s*\"([^\"]*)\"");

  private CloudEventsKafkaService() {}

  public static void main(String[] args) {
    String brokers = args[0];
    String group = args[1];
    String inTopic = args[2];
    String outTopic = args[3];
    int count = Integer.parseInt(args[4]);

    Properties consumerProps = new Properties();
    consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    consumerProps.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    consumerProps.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, CloudEventDeserializer.class);
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    producerProps.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    producerProps.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, CloudEventSerializer.class);
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");

    SecureRandom random = new SecureRandom();
    try (KafkaConsumer<String, CloudEvent> consumer = new KafkaConsumer<>(consumerProps);
        KafkaProducer<String, CloudEvent> producer = new KafkaProducer<>(producerProps)) {
      consumer.subscribe(List.of(inTopic));
      int seen = 0;
      while (seen < count) {
        for (ConsumerRecord<String, CloudEvent> record : consumer.poll(Duration.ofMillis(500))) {
          CloudEvent event = record.value();
          String data = new String(event.getData().toBytes(), StandardCharsets.UTF_8);
          String correlation = String.valueOf(event.getExtension("correlationid"));
          String traceparent = String.valueOf(event.getExtension("traceparent"));
          System.out.println(
              "{\"id\":" + quote(event.getId())
                  + ",\"type\":" + quote(event.getType())
                  + ",\"source\":" + quote(event.getSource().toString())
                  + ",\"specversion\":" + quote(event.getSpecVersion().toString())
                  + ",\"key\":" + quote(record.key())
                  + ",\"correlationid\":" + quote(correlation)
                  + ",\"traceparent\":" + quote(traceparent)
                  + ",\"data\":" + data + "}");
          System.out.flush();
          String key = match(KEY, data);
          int seq = Integer.parseInt(match(SEQ, data));
          byte[] span = new byte[8];
          random.nextBytes(span);
          String traceId = traceparent.split("-")[1];
          CloudEvent reply =
              CloudEventBuilder.v1()
                  .withId(UUID.randomUUID().toString())
                  .withSource(URI.create("urn:java:cloudevents-kafka"))
                  .withType(event.getType())
                  .withDataContentType("application/json")
                  .withData(("{\"key\":" + quote(key) + ",\"seq\":" + (seq + 1000) + "}").getBytes(StandardCharsets.UTF_8))
                  .withExtension("partitionkey", key)
                  .withExtension("correlationid", correlation)
                  .withExtension("causationid", event.getId())
                  .withExtension("traceparent", "00-" + traceId + "-" + HexFormat.of().formatHex(span) + "-01")
                  .build();
          producer.send(new ProducerRecord<>(outTopic, key, reply)).get();
          consumer.commitSync(
              Map.of(
                  new org.apache.kafka.common.TopicPartition(record.topic(), record.partition()),
                  new org.apache.kafka.clients.consumer.OffsetAndMetadata(record.offset() + 1)));
          seen++;
        }
      }
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static String match(Pattern pattern, String text) {
    Matcher m = pattern.matcher(text);
    if (!m.find()) throw new IllegalArgumentException("no " + pattern + " in " + text);
    return m.group(1);
  }

  private static String quote(String value) {
    if (value == null) return "null";
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
