/**
 * Prediction routes: predict with a named adapter (batched across concurrent requests), and
 * retrieve adapters from the zoo by the inputs themselves.
 */
import { ConflictError } from '../../registry/errors.ts';
import { preparePrediction } from '../../service/predict.ts';
import { formatCandidates, formatPredictions } from '../format.ts';
import * as R from '../responses.ts';
import { ok, route } from '../route.ts';
import { PredictBody, RetrieveBody } from '../schemas.ts';
import { E400, E404, E409 } from './errors.ts';

export const predictRoutes = [
  route({
    method: 'post', path: '/v1/predict', operationId: 'predict', tags: ['predict'],
    summary: 'Predict with an adapter (requests for different adapters are batched)',
    request: { body: { 'application/json': PredictBody } },
    responses: { 200: { description: 'one prediction per input', schema: R.PredictionsJson }, ...E400, ...E404('unknown adapter'), ...E409('the adapter needs a backbone this server lacks') },
    handler: async ({ body }, { runtime, resolver, batcher }) => {
      const job = await preparePrediction(runtime, resolver, body.adapter, body.inputs);
      return ok(formatPredictions(job.head.summary, await batcher.predict(job)));
    },
  }),
  route({
    method: 'post', path: '/v1/retrieve', operationId: 'retrieve', tags: ['predict'],
    summary: 'Choose zoo adapters for the inputs by task-embedding cosine, and predict with the best',
    request: { body: { 'application/json': RetrieveBody } },
    responses: { 200: { description: 'ranked candidates and the best one\'s predictions', schema: R.RetrievalJson }, ...E400, ...E409('no zoo adapters') },
    handler: async ({ body }, { runtime, retriever, batcher }) => {
      const found = await retriever.retrieve(body.inputs, body.top_k ?? 3);
      let result: ReturnType<typeof formatPredictions> | null = null;
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
      return ok({ candidates: formatCandidates(found.candidates), result, ...(note ? { note } : {}) });
    },
  }),
];
