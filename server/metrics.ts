/**
 * Prometheus metrics (prom-client), on a registry of their own so several servers in one process
 * (tests) do not collide. Request latency is labelled by route template, never by raw URL, and
 * the per-adapter prediction counter labels only the top-N adapters by count (the rest are
 * 'other'), so label cardinality stays bounded however many adapters are served.
 */
import type { RequestHandler } from 'express';
import client from 'prom-client';
import type { RuntimeObserver } from '../service/runtime.ts';
import { routeTemplate } from './request-log.ts';

const REDUNDANT_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Counts per adapter id; top N get their own label at scrape time. */
class TopAdapters {
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(private readonly top: number, private readonly maxTracked = 100000) {}

  add(adapterId: string, n: number): void {
    this.total += n;
    const current = this.counts.get(adapterId);
    if (current !== undefined || this.counts.size < this.maxTracked) this.counts.set(adapterId, (current ?? 0) + n);
  }

  /** [label, count] pairs: the top N adapters, then 'other' for the remainder. */
  snapshot(): [string, number][] {
    const ranked = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, this.top);
    const other = this.total - ranked.reduce((s, [, n]) => s + n, 0);
    return other > 0 ? [...ranked, ['other', other]] : ranked;
  }
}

export class Metrics implements RuntimeObserver {
  readonly registry = new client.Registry();
  private readonly requestSeconds = new client.Histogram({
    name: 'lift_http_request_duration_seconds', help: 'HTTP request latency by route template',
    labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly fits = new client.Counter({ name: 'lift_fits_total', help: 'Adapters fitted, by method', labelNames: ['method'], registers: [this.registry] });
  private readonly fitSeconds = new client.Histogram({
    name: 'lift_fit_duration_seconds', help: 'Adapter fit time, by method', labelNames: ['method'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry],
  });
  private readonly featureHits = new client.Counter({
    name: 'lift_feature_cache_hits_total', help: 'Distinct inputs whose features were cached, by tier', labelNames: ['tier'], registers: [this.registry],
  });
  private readonly featureMisses = new client.Counter({ name: 'lift_feature_cache_misses_total', help: 'Distinct inputs the backbone had to embed', registers: [this.registry] });
  private readonly backboneRuns = new client.Counter({ name: 'lift_backbone_runs_total', help: 'Backbone calls', registers: [this.registry] });
  private readonly backboneInputs = new client.Counter({ name: 'lift_backbone_inputs_total', help: 'Inputs embedded by the backbone', registers: [this.registry] });
  private readonly batches = new client.Counter({ name: 'lift_predict_batches_total', help: 'Prediction batches run', registers: [this.registry] });
  private readonly batchRequests = new client.Histogram({
    name: 'lift_predict_batch_requests', help: 'Prediction requests per batch', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry],
  });
  private readonly batchInputs = new client.Counter({
    name: 'lift_predict_batch_inputs_total', help: 'Inputs in prediction batches, all and distinct by content hash', labelNames: ['kind'], registers: [this.registry],
  });
  private readonly topAdapters: TopAdapters;

  constructor(topAdapters: number) {
    this.topAdapters = new TopAdapters(topAdapters);
    const top = this.topAdapters;
    new client.Counter({
      name: 'lift_adapter_predictions_total', help: 'Predicted inputs per adapter id (top N by count, the rest as other)',
      labelNames: ['adapter'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [adapter, n] of top.snapshot()) this.inc({ adapter }, n);
      },
    });
    // Default names (process_*, nodejs_*), which stock Node.js dashboards and alerts expect.
    client.collectDefaultMetrics({ register: this.registry });
    // Except three gauges named like counters (prom-client issue #283), which promtool rejects;
    // each is the sum over `type` of the gauge of the same name without `_total`.
    for (const name of REDUNDANT_TOTAL_GAUGES) this.registry.removeSingleMetric(name);
  }

  /** Times every request; the label is the matched route template (or 'unmatched'). */
  readonly middleware: RequestHandler = (req, res, next) => {
    const end = this.requestSeconds.startTimer();
    res.on('finish', () => {
      end({ method: req.method, route: routeTemplate(req), status: String(res.statusCode) });
    });
    next();
  };

  featureLookup(memoryHits: number, registryHits: number, misses: number): void {
    if (memoryHits) this.featureHits.inc({ tier: 'memory' }, memoryHits);
    if (registryHits) this.featureHits.inc({ tier: 'registry' }, registryHits);
    if (misses) this.featureMisses.inc(misses);
  }

  backboneRun(inputs: number): void {
    this.backboneRuns.inc();
    this.backboneInputs.inc(inputs);
  }

  fitted(method: string, ms: number): void {
    this.fits.inc({ method });
    this.fitSeconds.observe({ method }, ms / 1000);
  }

  predicted(adapterId: string, inputs: number): void {
    this.topAdapters.add(adapterId, inputs);
  }

  batched(requests: number, inputs: number, distinct: number): void {
    this.batches.inc();
    this.batchRequests.observe(requests);
    this.batchInputs.inc({ kind: 'all' }, inputs);
    this.batchInputs.inc({ kind: 'distinct' }, distinct);
  }
}
