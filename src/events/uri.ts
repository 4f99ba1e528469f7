import { isIPv6 } from 'node:net';

// RFC 3986 character classes, as regular-expression fragments.
const UNRESERVED = 'A-Za-z0-9\\-._~';
const SUB_DELIMS = "!$&'()*+,;=";
const PCT_ENCODED = '%[0-9A-Fa-f]{2}';
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT_ENCODED})`;

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const QUERY_OR_FRAGMENT = new RegExp(`^(?:${PCHAR}|[/?])*$`);
const PATH = new RegExp(`^(?:${PCHAR}|/)*$`);
const USERINFO = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT_ENCODED})*$`);
const REG_NAME = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT_ENCODED})*$`);
const IPV_FUTURE = new RegExp(`^[vV][0-9A-Fa-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+$`);
const IPV6 = /^[0-9A-Fa-f:.]+$/;
const PORT = /^[0-9]*$/;

interface UriParts {
  scheme: string | undefined;
  fragment: string | undefined;
}

// Hand-written because no installed library checks RFC 3986 references exactly: zod's url() wants
// an absolute URL that WHATWG can parse, which rejects relative references and accepts invalid ones.
function parseReference(value: string): UriParts | undefined {
  let rest = value;
  let fragment: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    if (!QUERY_OR_FRAGMENT.test(fragment)) return undefined;
  }
  const question = rest.indexOf('?');
  if (question >= 0) {
    if (!QUERY_OR_FRAGMENT.test(rest.slice(question + 1))) return undefined;
    rest = rest.slice(0, question);
  }
  const scheme = SCHEME.exec(rest)?.[0].slice(0, -1);
  if (scheme !== undefined) {
    rest = rest.slice(scheme.length + 1);
  } else {
    // A relative reference whose first segment held a colon would read as a scheme (path-noscheme).
    const firstSegment = rest.startsWith('/') ? '' : (rest.split('/')[0] ?? '');
    if (firstSegment.includes(':')) return undefined;
  }
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/\//);
    const authority = end < 0 ? rest.slice(2) : rest.slice(2, end + 2);
    if (!isAuthority(authority)) return undefined;
    rest = end < 0 ? '' : rest.slice(end + 2);
  }
  return PATH.test(rest) ? { scheme, fragment } : undefined;
}

function isAuthority(authority: string): boolean {
  let hostPort = authority;
  const at = authority.indexOf('@');
  if (at >= 0) {
    if (!USERINFO.test(authority.slice(0, at))) return false;
    hostPort = authority.slice(at + 1);
  }
  let port = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return false;
    const literal = hostPort.slice(1, close);
    if (!(IPV_FUTURE.test(literal) || (IPV6.test(literal) && isIPv6(literal)))) return false;
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return false;
    port = after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    port = colon < 0 ? '' : hostPort.slice(colon + 1);
    if (!REG_NAME.test(host)) return false;
  }
  return PORT.test(port);
}

/** True when `value` is an RFC 3986 URI-reference (absolute URI or relative reference), e.g. `/orders`. */
export function isUriReference(value: string): boolean {
  return parseReference(value) !== undefined;
}

/**
 * True when `value` is an absolute URI as RFC 3986 section 4.3 defines it (a scheme, no fragment),
 * the CloudEvents `URI` type, e.g. `https://example.com/schema` or `urn:keel:schema:x:1`.
 */
export function isAbsoluteUri(value: string): boolean {
  const parts = parseReference(value);
  return parts !== undefined && parts.scheme !== undefined && parts.fragment === undefined;
}
