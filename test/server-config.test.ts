/**
 * The server's access and logging settings from flags and environment variables: yes/no
 * switches (a bare flag is yes), host lists, log levels, and a clear error for a bad value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../server/config.ts';

const access = (argv: string[], env: Record<string, string> = {}) => {
  const c = loadConfig(argv, env);
  return { reads: c.publicReads, metrics: c.publicMetrics, docs: c.publicDocs, hosts: c.allowedHosts, level: c.logLevel };
};

describe('server config: access and logs', () => {
  it('closes reads and metrics and opens the docs by default; flags and environment change each', () => {
    assert.deepEqual(access([]), { reads: false, metrics: false, docs: true, hosts: [], level: 'info' });
    assert.deepEqual(access(['--public-reads', '--port', '9000']), { reads: true, metrics: false, docs: true, hosts: [], level: 'info' });
    assert.deepEqual(access(['--public-docs', 'no', '--public-metrics', 'yes', '--log-level', 'warn']), { reads: false, metrics: true, docs: false, hosts: [], level: 'warn' });
    assert.deepEqual(access([], { LIFT_PUBLIC_READS: 'true', LIFT_ALLOWED_HOSTS: 'Zoo.Example, [::1]', LIFT_LOG_LEVEL: 'silent' }),
      { reads: true, metrics: false, docs: true, hosts: ['zoo.example', '[::1]'], level: 'silent' });
    assert.equal(access(['--public-reads', 'no'], { LIFT_PUBLIC_READS: 'yes' }).reads, false, 'a flag wins over the environment');
  });

  it('names the setting and what it expected for a bad value', () => {
    assert.throws(() => loadConfig(['--public-reads', 'maybe'], {}), /public reads: expected yes or no, got 'maybe'/);
    assert.throws(() => loadConfig(['--log-level', 'loud'], {}), /log level: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'/);
    assert.throws(() => loadConfig(['--allowed-hosts', 'a.com:80'], {}), /allowed hosts: expected host names .* without a port, got 'a.com:80'/);
  });
});
