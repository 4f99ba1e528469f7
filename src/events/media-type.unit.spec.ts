import { describe, expect, it } from 'vitest';
import { isJsonMediaType, mediaTypeEssence, mediaTypeParameter } from './media-type.ts';

describe('media types', () => {
  it('finds the essence without parameters, lower-cased', () => {
    expect(mediaTypeEssence('Application/CloudEvents+JSON; charset=UTF-8')).toBe(
      'application/cloudevents+json',
    );
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'text/json', 'application/vnd.api+json'])(
    'treats %s as JSON',
    (type) => {
      expect(isJsonMediaType(type)).toBe(true);
    },
  );

  it.each(['text/plain', 'application/jsonp', 'application/json-seq', 'application/octet-stream'])(
    'does not treat %s as JSON',
    (type) => {
      expect(isJsonMediaType(type)).toBe(false);
    },
  );

  it('reads parameters, quoted or not', () => {
    expect(mediaTypeParameter('text/plain; Charset=UTF-8', 'charset')).toBe('UTF-8');
    expect(mediaTypeParameter('text/plain; charset="utf-8"', 'charset')).toBe('utf-8');
    expect(mediaTypeParameter('text/plain', 'charset')).toBeUndefined();
  });
});
