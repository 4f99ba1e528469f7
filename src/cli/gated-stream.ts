/** Something text can be written to, such as `process.stdout`. */
export interface TextSink {
  write(chunk: string): unknown;
}

/** A log destination that holds lines back until opened, then passes them straight through. */
export interface GatedStream extends TextSink {
  /** Writes the held lines to the target, in order, and stops holding. */
  open(): void;
}

/**
 * Holds log lines written before `open()`: the node's first line on stdout must say where it
 * listens, yet the transport and fastify log while starting up, before that is known.
 */
export function createGatedStream(target: TextSink): GatedStream {
  let held: string[] | undefined = [];
  return {
    write(chunk) {
      if (held) held.push(chunk);
      else target.write(chunk);
      return true;
    },
    open() {
      const lines = held ?? [];
      held = undefined;
      for (const line of lines) target.write(line);
    },
  };
}
