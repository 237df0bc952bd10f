/**
 * Server configuration from flags and environment variables (flags win): the service's settings
 * (service/config.ts) plus the HTTP server's own (port, key, body limit, timeouts, connections,
 * metrics). One typed object is built here and passed down. docs/api.md lists every setting; keep
 * the two in sync.
 */
import { Command, Option } from 'commander';
import {
  DEFAULT_SERVICE_CONFIG, parseByteSize, parseIntSetting, SERVICE_SETTINGS, type ServiceConfig, type SettingSource,
} from '../service/config.ts';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from '../service/log.ts';

export interface ServerConfig extends ServiceConfig {
  readonly port: number;
  readonly host: string;
  /** When set, every route requires `Authorization: Bearer <key>` except those server/access.ts opens. */
  readonly apiKey: string | null;
  /** With a key: GET routes need none (an explicit opt-out; reads are closed by default). */
  readonly publicReads: boolean;
  /** With a key: /metrics needs none (a scraper without credentials). */
  readonly publicMetrics: boolean;
  /** With a key: /openapi.json and /docs need none. */
  readonly publicDocs: boolean;
  /** Without a key: Host header names accepted besides localhost, 127.0.0.1, [::1] and `host` ('*': any). */
  readonly allowedHosts: readonly string[];
  /** Lowest level of the JSON log lines written to stdout. */
  readonly logLevel: LogLevel;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Adapters with their own label on the per-adapter prediction metric; the rest are 'other'. */
  readonly metricsTopAdapters: number;
  /** Grace period for in-flight requests on shutdown, in ms. */
  readonly shutdownTimeoutMs: number;
  /** Longest a client may take to send a whole request (headers and body), in ms. */
  readonly requestTimeoutMs: number;
  /** Longest a client may take to send the request headers, in ms. */
  readonly headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most simultaneous connections; further ones are closed at once. */
  readonly maxConnections: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  ...DEFAULT_SERVICE_CONFIG,
  port: 8080,
  host: '127.0.0.1',
  apiKey: null,
  publicReads: false,
  publicMetrics: false,
  publicDocs: true,
  allowedHosts: [],
  logLevel: 'info',
  bodyLimitBytes: 10 * 1024 * 1024,
  metricsTopAdapters: 20,
  shutdownTimeoutMs: 10000,
  requestTimeoutMs: 30000,
  headersTimeoutMs: 10000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 1024,
};

const SERVER_SETTINGS = {
  port: { flag: '--port <n>', help: 'port to listen on (0: any free port)', env: 'PORT', parse: (v: string) => parseIntSetting(v, 'port', 0) },
  host: { flag: '--host <host>', help: 'interface to listen on', env: 'HOST', parse: (v: string) => v },
  apiKey: { flag: '--api-key <key>', help: 'API key every route then requires (Authorization: Bearer <key>), except /healthz, /readyz and those opened below', env: 'LIFT_API_KEY', parse: (v: string) => (v === '' ? null : v) },
  publicReads: { flag: '--public-reads [yes|no]', help: 'with a key: GET routes need none (opens users\' data to anyone who reaches the server)', env: 'LIFT_PUBLIC_READS', parse: (v: string) => parseBoolSetting(v, 'public reads') },
  publicMetrics: { flag: '--public-metrics [yes|no]', help: 'with a key: /metrics needs none', env: 'LIFT_PUBLIC_METRICS', parse: (v: string) => parseBoolSetting(v, 'public metrics') },
  publicDocs: { flag: '--public-docs [yes|no]', help: 'with a key: /openapi.json and /docs need none', env: 'LIFT_PUBLIC_DOCS', parse: (v: string) => parseBoolSetting(v, 'public docs') },
  allowedHosts: { flag: '--allowed-hosts <list>', help: 'without a key: Host names accepted besides localhost, 127.0.0.1, [::1] and --host (comma-separated; * for any)', env: 'LIFT_ALLOWED_HOSTS', parse: parseHostList },
  logLevel: { flag: '--log-level <level>', help: `JSON log lines on stdout from this level up (${LOG_LEVELS.join(', ')})`, env: 'LIFT_LOG_LEVEL', parse: parseLogLevel },
  bodyLimitBytes: { flag: '--body-limit <size>', help: 'largest request body (bytes, or with kb / mb)', env: 'LIFT_BODY_LIMIT', parse: (v: string) => parseByteSize(v, 'body limit') },
  metricsTopAdapters: { flag: '--metrics-top-adapters <n>', help: 'adapters with their own label on the per-adapter metric (the rest: other)', env: 'LIFT_METRICS_TOP_ADAPTERS', parse: (v: string) => parseIntSetting(v, 'metrics top adapters', 0) },
  shutdownTimeoutMs: { flag: '--shutdown-timeout-ms <ms>', help: 'grace period for in-flight requests on shutdown', env: 'LIFT_SHUTDOWN_TIMEOUT_MS', parse: (v: string) => parseIntSetting(v, 'shutdown timeout', 0) },
  requestTimeoutMs: { flag: '--request-timeout-ms <ms>', help: 'longest time to receive a whole request', env: 'LIFT_REQUEST_TIMEOUT_MS', parse: (v: string) => parseIntSetting(v, 'request timeout', 1) },
  headersTimeoutMs: { flag: '--headers-timeout-ms <ms>', help: 'longest time to receive request headers', env: 'LIFT_HEADERS_TIMEOUT_MS', parse: (v: string) => parseIntSetting(v, 'headers timeout', 1) },
  keepAliveTimeoutMs: { flag: '--keep-alive-timeout-ms <ms>', help: 'idle keep-alive connection timeout', env: 'LIFT_KEEP_ALIVE_TIMEOUT_MS', parse: (v: string) => parseIntSetting(v, 'keep-alive timeout', 1) },
  maxConnections: { flag: '--max-connections <n>', help: 'most open connections', env: 'LIFT_MAX_CONNECTIONS', parse: (v: string) => parseIntSetting(v, 'max connections', 1) },
} as const satisfies Record<Exclude<keyof ServerConfig, keyof ServiceConfig>, SettingSource>;

/** `--flag` alone (commander gives `true`), or yes/no, true/false, 1/0. */
function parseBoolSetting(value: string | boolean, field: string): boolean {
  const v = String(value).toLowerCase();
  if (['true', 'yes', '1'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new Error(`${field}: expected yes or no, got '${String(value)}'`);
}

/** Comma-separated host names, lower-cased, without ports. */
function parseHostList(value: string): readonly string[] {
  const hosts = value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  const bad = hosts.find((h) => h !== '*' && !/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/.test(h));
  if (bad !== undefined) throw new Error(`allowed hosts: expected host names such as example.com or [::1] without a port, got '${bad}'`);
  return hosts;
}

/** Every setting, the server's first (as --help lists them). */
const SETTINGS: Record<keyof ServerConfig, SettingSource> = { ...SERVER_SETTINGS, ...SERVICE_SETTINGS };

/** How the command that reads the configuration names and describes itself in --help. */
export interface CommandInfo {
  readonly name: string;
  readonly description: string;
}

const SERVE: CommandInfo = { name: 'serve', description: 'LiFT zoo inference server (backbones must be built: npm run build:models)' };

/** Defaults, overridden by environment variables, overridden by flags. Throws naming a bad setting. */
export function loadConfig(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env, command: CommandInfo = SERVE): ServerConfig {
  const program = new Command().name(command.name).description(command.description).allowExcessArguments(false);
  const attribute = new Map<string, string>();
  for (const [key, s] of Object.entries(SETTINGS)) {
    const value = DEFAULT_CONFIG[key as keyof ServerConfig];
    const option = new Option(s.flag, `${s.help} (default: ${value === null ? 'none' : Array.isArray(value) ? value.join(',') || 'none' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value)}; env ${s.env})`);
    attribute.set(key, option.attributeName());
    program.addOption(option);
  }
  program.parse([...argv], { from: argv === process.argv ? 'node' : 'user' });
  const flags = program.opts<Record<string, string | undefined>>();
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [key, s] of Object.entries(SETTINGS)) {
    const raw = flags[attribute.get(key)!] ?? env[s.env];
    if (raw !== undefined) config[key] = s.parse(raw);
  }
  return config as unknown as ServerConfig;
}

/** The configuration with secrets masked, for logs and /readyz. */
export function describeConfig(config: ServerConfig): Record<string, unknown> {
  const hidePassword = (url: string | null) => url?.replace(/\/\/[^@/]*@/, '//…@') ?? null;
  return { ...config, apiKey: config.apiKey === null ? null : '***', registryUrl: hidePassword(config.registryUrl), queueUrl: hidePassword(config.queueUrl) };
}
