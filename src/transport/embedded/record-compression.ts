import { gunzipSync, gzipSync, constants as zlib, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import type { TopicCompression } from '../transport.ts';
import { CorruptRecordError } from './errors.ts';

/**
 * The codec a stored value was written with, kept in `records.codec`: Kafka's numbering of the record batch
 * attribute (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), so a row says how to read it whatever the topic's
 * setting is now, and rows written before compression existed (0) read as they are.
 */
export type StoredCodec = 0 | 1 | 2 | 3 | 4;

/** A value as it goes into the `records` table. */
export interface StoredValue {
  value: Uint8Array | null;
  codec: StoredCodec;
}

interface Codec {
  id: StoredCodec;
  compress(value: Buffer): Buffer;
  decompress(value: Buffer): Buffer;
}

/**
 * The base-2 log of the smallest window that holds the whole value, within a codec's bounds: one value is
 * compressed at a time, so a larger window only costs the allocation (most of the time on a ~500 B event).
 */
const windowLog = (bytes: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, Math.ceil(Math.log2(bytes))));

const codecs: Readonly<Record<Exclude<TopicCompression, 'none'>, Codec>> = {
  gzip: {
    id: 1,
    compress: (v) => gzipSync(v, { windowBits: windowLog(v.byteLength, 10, 15), memLevel: 8 }),
    decompress: (v) => gunzipSync(v),
  },
  snappy: { id: 2, compress: (v) => snappyCompress(v), decompress: (v) => snappyDecompress(v) },
  lz4: { id: 3, compress: (v) => lz4Compress(v), decompress: (v) => lz4Decompress(v) },
  zstd: {
    id: 4,
    compress: (v) =>
      zstdCompressSync(v, {
        params: {
          [zlib.ZSTD_c_compressionLevel]: 3,
          [zlib.ZSTD_c_windowLog]: windowLog(v.byteLength, 10, 27),
        },
      }),
    decompress: (v) => zstdDecompressSync(v),
  },
};

const byId = new Map<number, Codec>(Object.values(codecs).map((codec) => [codec.id, codec]));

/** A view of the bytes as a Buffer, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The value compressed with the topic's codec, or as it is when the codec is `none`, the value is null
 * (a tombstone) or compressing did not make it smaller (small or already compressed data): readers and
 * `readMatching` then see plain bytes.
 */
export function compressValue(value: Uint8Array | null, compression: TopicCompression): StoredValue {
  if (value === null || compression === 'none' || value.byteLength === 0) return { value, codec: 0 };
  const codec = codecs[compression];
  const compressed = codec.compress(asBuffer(value));
  return compressed.byteLength < value.byteLength
    ? { value: compressed, codec: codec.id }
    : { value, codec: 0 };
}

/** Where a stored value sits, for the error when it does not decompress. */
export interface StoredAt {
  topic: string;
  partition: number;
  offset: bigint;
}

/** The value as it was appended: decompressed when its row says it was compressed. */
export function decompressValue(value: Uint8Array | null, codec: number, at: StoredAt): Uint8Array | null {
  if (codec === 0 || value === null) return value;
  const known = byId.get(codec);
  if (known === undefined) throw new CorruptRecordError(at, `unknown codec ${codec}`);
  try {
    const plain = known.decompress(asBuffer(value));
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch (error) {
    throw new CorruptRecordError(at, `codec ${codec} could not decompress the value`, { cause: error });
  }
}
