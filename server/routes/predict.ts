/**
 * Prediction routes: predict with a named adapter (batched across concurrent requests), and
 * retrieve adapters from the zoo by the inputs themselves.
 */
import { Router } from 'express';
import { preparePrediction } from '../../service/predict.ts';
import type { ServerContext } from '../context.ts';
import { formatPredictions, formatRetrieval } from '../format.ts';
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
    const b = parsed(res, 'body', RetrieveBody);
    const found = await retriever.retrieve({
      inputs: b.inputs, zoo: b.zoo, zooVersion: b.zoo_version, topK: b.top_k, mode: b.mode, routing: b.routing, predict: b.predict,
    });
    res.json(formatRetrieval(found));
  });

  return r;
}
