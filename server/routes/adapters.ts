/**
 * Adapter registry routes. An adapter version is addressed by id (`/v1/adapters/{id}`); a name,
 * which may contain `/`, by `/v1/adapter-names/{name}` (a collection of its own, so no path can
 * be read both ways), with the name's own sub-resources after a `-` segment
 * (`.../adapter-names/{name}/-/aliases`), which no name segment can be.
 */
import { EXPORT_FILES, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type ExportFileName } from '../../registry/peft.ts';
import { attachAdapter } from '../../service/attach.ts';
import { exportAdapter, importAdapter } from '../../service/peft-transfer.ts';
import type { ServerContext } from '../context.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { formatAdapter, formatAdapterDetail, formatAlias, formatLineage, formatPage } from '../format.ts';
import * as R from '../responses.ts';
import { json, noContent, ok, route } from '../route.ts';
import { AdapterList, AliasBody, AliasParams, AttachBody, IdParams, NameParams, NameQuery, PeftFileParams, PeftImport } from '../schemas.ts';
import { E400, E404, E409 } from './errors.ts';

const NOT_FOUND = E404('no such adapter');
const isExportFile = (file: string): file is ExportFileName => (EXPORT_FILES as readonly string[]).includes(file);

async function detail({ runtime: { store } }: ServerContext, id: string) {
  const adapter = await store.getAdapter(id);
  return formatAdapterDetail(adapter, await store.listAliases(adapter.name));
}

export const adapterRoutes = [
  route({
    method: 'get', path: '/v1/adapters', operationId: 'searchAdapters', tags: ['registry'],
    summary: 'Search adapters (by task, method, name, alias, base model; paged)',
    request: { query: AdapterList },
    responses: { 200: { description: 'one page of adapters', schema: R.AdapterPage }, ...E400, ...E404('no such base model') },
    handler: async ({ query: q }, { runtime: { store } }) => {
      const filter = { taskId: q.task_id, method: q.method, name: q.name, alias: q.alias, baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
      return ok(formatPage(await store.searchAdapters(filter, q.page_token, q.max_results), formatAdapter));
    },
  }),
  route({
    method: 'post', path: '/v1/adapters/import', operationId: 'importAdapter', tags: ['registry'],
    summary: 'Import a PEFT adapter (with task_id, attach it to that task when it has no head)',
    request: { body: { 'application/json': PeftImport } },
    responses: {
      201: { description: 'a new adapter version', schema: R.ImportJson },
      200: { description: 'an identical adapter was already stored', schema: R.ImportJson },
      ...E400, ...E404('no such task'), ...E409('the task has another base model'),
    },
    handler: async ({ body: b }, { runtime }) => {
      const { adapter, created, alias, attached } = await importAdapter(runtime, {
        config: b[PEFT_CONFIG_FILE], weightsBase64: b[PEFT_WEIGHTS_FILE], headConfig: b[HEAD_CONFIG_FILE], headWeightsBase64: b[HEAD_WEIGHTS_FILE],
        name: b.name, labels: b.labels, method: b.method, taskId: b.task_id, alias: b.alias,
      });
      return json(created || attached?.created ? 201 : 200, {
        adapter: formatAdapter(adapter), created, alias: alias ? formatAlias(alias) : null,
        attached: attached ? { from: attached.from, support_accuracy: attached.supportAccuracy } : null,
      });
    },
  }),
  route({
    method: 'post', path: '/v1/adapters/{id}/attach', operationId: 'attachAdapter', tags: ['registry'],
    summary: "Attach an adapter to a task: compute its head from the task's support set (a new version on the task's labels)",
    request: { params: IdParams, body: { 'application/json': AttachBody } },
    responses: {
      201: { description: 'the new version, which predicts on the task\'s labels', schema: R.AttachJson },
      200: { description: 'an identical version was already stored', schema: R.AttachJson },
      ...E400, ...E404('no such adapter or task'), ...E409('adapter and task have different base models'),
    },
    handler: async ({ params, body }, { runtime }) => {
      const result = await attachAdapter(runtime, params.id, body.task_id, { tau: body.tau });
      return json(result.created ? 201 : 200, { adapter: formatAdapter(result.adapter), created: result.created, support_accuracy: result.supportAccuracy });
    },
  }),
  route({
    method: 'get', path: '/v1/adapter-names/{name*}', operationId: 'getAdapterByName', tags: ['registry'],
    summary: 'An adapter version by name: the latest, or the one an alias or version names',
    request: { params: NameParams, query: NameQuery },
    responses: { 200: { description: 'the adapter', schema: R.AdapterDetailJson }, ...E400, ...E404('no such name, alias or version') },
    handler: async ({ params, query }, ctx) => ok(await detail(ctx, (await ctx.resolver.resolve({ name: params.name, alias: query.alias, version: query.version }, 'query')).id)),
  }),
  route({
    method: 'get', path: '/v1/adapter-names/{name*}/-/aliases', operationId: 'listAliases', tags: ['registry'],
    summary: "An adapter name's aliases",
    request: { params: NameParams },
    responses: { 200: { description: 'the aliases', schema: R.AliasItems }, ...E404('no such name') },
    handler: async ({ params }, { runtime: { store } }) => {
      await store.getLatestAdapterVersion(params.name);
      return ok({ items: (await store.listAliases(params.name)).map(formatAlias) });
    },
  }),
  route({
    method: 'put', path: '/v1/adapter-names/{name*}/-/aliases/{alias}', operationId: 'setAlias', tags: ['registry'],
    summary: 'Point an alias at a version',
    request: { params: AliasParams, body: { 'application/json': AliasBody } },
    responses: { 200: { description: 'the alias', schema: R.AliasJson }, ...E400, ...E404('no such version') },
    handler: async ({ params, body }, { runtime: { store } }) => ok(formatAlias(await store.setAlias(params.name, params.alias, body.version))),
  }),
  route({
    method: 'delete', path: '/v1/adapter-names/{name*}/-/aliases/{alias}', operationId: 'deleteAlias', tags: ['registry'],
    summary: 'Remove an alias',
    request: { params: AliasParams },
    responses: { 204: { description: 'deleted' }, ...E404('no such alias') },
    handler: async ({ params }, { runtime: { store } }) => {
      await store.deleteAlias(params.name, params.alias);
      return noContent();
    },
  }),
  route({
    method: 'get', path: '/v1/adapters/{id}', operationId: 'getAdapter', tags: ['registry'],
    summary: 'Adapter metadata, parameter sizes and aliases',
    request: { params: IdParams },
    responses: { 200: { description: 'the adapter', schema: R.AdapterDetailJson }, ...NOT_FOUND },
    handler: async ({ params }, ctx) => ok(await detail(ctx, params.id)),
  }),
  route({
    method: 'get', path: '/v1/adapters/{id}/lineage', operationId: 'getAdapterLineage', tags: ['registry'],
    summary: 'Ancestors (adapters and prior)',
    request: { params: IdParams },
    responses: { 200: { description: 'the lineage graph', schema: R.LineageJson }, ...NOT_FOUND },
    handler: async ({ params }, { runtime: { store } }) => ok(formatLineage(await store.getLineage(params.id))),
  }),
  route({
    method: 'get', path: '/v1/adapters/{id}/peft', operationId: 'exportPeft', tags: ['registry'],
    summary: 'Export in PEFT layout as JSON: the PEFT LoRA and the head, one key per file (safetensors base64)',
    request: { params: IdParams },
    responses: { 200: { description: 'the PEFT files', schema: R.PeftJson }, ...NOT_FOUND },
    handler: async ({ params }, { runtime: { store } }) => {
      const files = await exportAdapter(store, params.id);
      const text = (file: Uint8Array) => JSON.parse(new TextDecoder().decode(file));
      const base64 = (file: Uint8Array) => Buffer.from(file).toString('base64');
      return ok({
        [PEFT_CONFIG_FILE]: text(files[PEFT_CONFIG_FILE]), [PEFT_WEIGHTS_FILE]: base64(files[PEFT_WEIGHTS_FILE]),
        [HEAD_CONFIG_FILE]: text(files[HEAD_CONFIG_FILE]), [HEAD_WEIGHTS_FILE]: base64(files[HEAD_WEIGHTS_FILE]),
      });
    },
  }),
  route({
    method: 'get', path: '/v1/adapters/{id}/peft/{file}', operationId: 'exportPeftFile', tags: ['registry'],
    summary: 'One file of the PEFT export, raw',
    request: { params: PeftFileParams },
    responses: { 200: { description: 'the file: JSON files as JSON, safetensors as bytes', type: ['application/octet-stream', 'application/json'] }, ...E404('no such adapter or file') },
    handler: async ({ params: { id, file } }, { runtime: { store } }) => {
      if (!isExportFile(file)) throw new HttpError(HTTP_ERROR_CODES.routeNotFound, `file: expected one of ${EXPORT_FILES.join(', ')}, got '${file}'`);
      const files = await exportAdapter(store, id);
      return ok(Buffer.from(files[file]), {
        'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        'Content-Disposition': `attachment; filename="${file}"`,
      });
    },
  }),
];
