// RFC 2045 token: printable US-ASCII except the tspecials ()<>@,;:\"/[]?= and space.
const TOKEN = "[!#$%&'*+\\-.0-9A-Z^_`a-z{|}~]+";
const QUOTED_STRING = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*$`,
);

/** True when `value` is an RFC 2046 media type with optional parameters, e.g. `text/plain; charset=utf-8`. */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/** The `type/subtype` of a media type, lower-cased and without parameters. */
export function mediaTypeEssence(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/** The value of a media type parameter (lower-cased name), unquoted; undefined when absent. */
export function mediaTypeParameter(value: string, name: string): string | undefined {
  for (const part of value.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    return raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return undefined;
}

/** True for JSON media types as the CloudEvents JSON format defines them: `*\/json` or `*\/*+json`. */
export function isJsonMediaType(value: string): boolean {
  return /^[^/]+\/(?:[^/]*\+)?json$/.test(mediaTypeEssence(value));
}
