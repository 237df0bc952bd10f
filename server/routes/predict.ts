/**
 * Prediction routes: predict with a named adapter (batched across concurrent requests), and
 * retrieve adapters from the zoo by the inputs themselves.
 */
import { formatPredictions, formatRetrieval } from '../format.ts';
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
    handler: async ({ body }, { predictor }) => {
      const { adapter, output } = await predictor.predict(body.adapter, body.inputs);
      return ok(formatPredictions(adapter, output));
    },
  }),
  route({
    method: 'post', path: '/v1/retrieve', operationId: 'retrieve', tags: ['predict'],
    summary: "Rank a zoo's members by the inputs and predict with the best one or a mixture of the top k",
    description: 'Routing `embedding` (default): cosine between the inputs\' task embedding and each member\'s; `arrow`: mean |v·x| with v the top singular vector of the member\'s B·A. Mode `best` predicts on the top member\'s own labels; `mixture` averages the top-k members\' predictions (uniform weights) over the union of their labels.',
    request: { body: { 'application/json': RetrieveBody } },
    responses: { 200: { description: 'ranked members and the prediction', schema: R.RetrievalJson }, ...E400, ...E404('no such zoo or zoo version'), ...E409('no zoo has members for the inputs\' base model') },
    handler: async ({ body: b }, { retriever }) => ok(formatRetrieval(await retriever.retrieve({
      inputs: b.inputs, zoo: b.zoo, zooVersion: b.zoo_version, topK: b.top_k, mode: b.mode, routing: b.routing, predict: b.predict,
    }))),
  }),
];
