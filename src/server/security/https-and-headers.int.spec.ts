import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-error.ts';
import { startTempNode } from '../test-support/temp-node.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-https-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A throwaway self-signed certificate for 127.0.0.1, made with openssl. */
function throwawayCertificate(): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore', input: '' },
  );
  return { certFile, keyFile };
}

/** GET over HTTPS trusting only `ca`. */
function httpsGet(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, checkServerIdentity: () => undefined }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS on the node', () => {
  it('serves the API over TLS with the configured certificate and key, with HSTS', async () => {
    const { certFile, keyFile } = throwawayCertificate();
    const temp = await startTempNode({ config: { tlsCertFile: certFile, tlsKeyFile: keyFile } });
    try {
      const url = temp.node.url as string;
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await httpsGet(`${url}/healthz`, readFileSync(certFile));
      expect(answer.status).toBe(200);
      expect(answer.headers['strict-transport-security']).toBe('max-age=31536000');
      // Plain HTTP on the TLS port is not served.
      await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow();
    } finally {
      await temp.close();
    }
  });

  it('refuses to start with only one of the files, an unreadable one, or one that is not PEM', async () => {
    const { certFile, keyFile } = throwawayCertificate();
    await expect(startTempNode({ config: { tlsCertFile: certFile } })).rejects.toThrow(
      new ConfigError([
        { key: 'KEEL_TLS_KEY_FILE', message: 'required with KEEL_TLS_CERT_FILE to serve HTTPS' },
      ]),
    );
    await expect(
      startTempNode({ config: { tlsCertFile: certFile, tlsKeyFile: join(dir, 'missing.pem') } }),
    ).rejects.toThrow(/KEEL_TLS_KEY_FILE: cannot read .*missing\.pem \(ENOENT\)/);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    await expect(startTempNode({ config: { tlsCertFile: notPem, tlsKeyFile: keyFile } })).rejects.toThrow(
      /KEEL_TLS_CERT_FILE: .*not\.pem is not a PEM file/,
    );
    // The key's content never appears in the error.
    const keyText = readFileSync(keyFile, 'utf8').split('\n')[1] ?? 'no key';
    await startTempNode({ config: { tlsCertFile: keyFile, tlsKeyFile: keyFile } }).catch((error: Error) =>
      expect(error.message).not.toContain(keyText),
    );
  });
});

describe('security headers and CORS', () => {
  it('sends CSP (frame-ancestors none, scripts from the node only), nosniff and no CORS by default', async () => {
    const temp = await startTempNode();
    try {
      for (const path of ['/', '/v1/catalog', '/v1/docs', '/v1/nowhere']) {
        const response = await fetch(`${temp.node.url}${path}`, {
          headers: { origin: 'https://evil.example', accept: 'text/html' },
        });
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')*;/);
        expect(csp).toContain("object-src 'none'");
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
      }
      const preflight = await fetch(`${temp.node.url}/v1/catalog`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await temp.close();
    }
  });

  it('answers CORS only for the configured origins', async () => {
    const temp = await startTempNode({ config: { corsOrigins: ['https://app.example'] } });
    try {
      const preflight = await fetch(`${temp.node.url}/v1/catalog`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      const read = await fetch(`${temp.node.url}/v1/catalog`, { headers: { origin: 'https://app.example' } });
      expect(read.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await fetch(`${temp.node.url}/v1/catalog`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await temp.close();
    }
  });
});
