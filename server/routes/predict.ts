/**
 * Prediction routes: predict with a named adapter (batched across concurrent requests), and
 * retrieve adapters from the zoo by the inputs themselves.
 */
import { Router } from 'express';
import { ConflictError } from '../../registry/errors.ts';
import { preparePrediction } from '../../service/predict.ts';
import type { ServerContext } from '../context.ts';
import { formatCandidates, formatPredictions } from '../format.ts';
import { PredictBody, RetrieveBody } from '../schemas.ts';
import { parsed, validate } from '../validate.ts';

export function predictRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { runtime, resolver, retriever, batcher } = ctx;

  r.post('/v1/predict', validate({ body: PredictBody }), async (_req, res) => {
    const body = parsed(res, 'body', PredictBody);
    const job = await preparePrediction(runtime, resolver, body.adapter, body.inputs);
    const output = await batcher.predict(job);
    res.json(formatPredictions(job.head.summary, output));
  });

  r.post('/v1/retrieve', validate({ body: RetrieveBody }), async (_req, res) => {
    const body = parsed(res, 'body', RetrieveBody);
    const found = await retriever.retrieve(body.inputs, body.top_k ?? 3);
    let result: Record<string, unknown> | null = null;
    let note: string | undefined;
    if (body.predict ?? true) {
      try {
        const { head, backbone } = await runtime.head(found.candidates[0].adapter);
        result = formatPredictions(head.summary, await batcher.predict({ head, backbone, items: found.items }));
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        note = err.message;
      }
    }
    res.json({ candidates: formatCandidates(found.candidates), result, ...(note ? { note } : {}) });
  });

  return r;
}
