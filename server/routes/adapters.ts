/**
 * Adapter registry routes: search, detail, lineage, aliases, PEFT export and import.
 */
import { Router } from 'express';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../../registry/peft.ts';
import { attachAdapter } from '../../service/attach.ts';
import { exportAdapter, importAdapter } from '../../service/peft-transfer.ts';
import type { ServerContext } from '../context.ts';
import { formatAdapter, formatAdapterDetail, formatAlias, formatLineage, formatPage } from '../format.ts';
import { AdapterList, AliasBody, AttachBody, AliasParams, IdParams, NameParams, PeftFileParams, PeftImport } from '../schemas.ts';
import { parsed, validate } from '../validate.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';

export function adapterRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { store } = ctx.runtime;

  r.get('/v1/adapters', validate({ query: AdapterList }), async (_req, res) => {
    const q = parsed(res, 'query', AdapterList);
    const filter = { taskId: q.task_id, method: q.method, name: q.name, alias: q.alias, baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
    res.json(formatPage(await store.searchAdapters(filter, q.page_token, q.max_results), formatAdapter));
  });

  /** PEFT files in; with task_id, an adapter without a head is attached to that task as well. */
  r.post('/v1/adapters/import', validate({ body: PeftImport }), async (_req, res) => {
    const b = parsed(res, 'body', PeftImport);
    const task = b.task_id ? await store.getTask(b.task_id) : null;
    const result = await importAdapter(store, {
      config: b[PEFT_CONFIG_FILE], weightsBase64: b[PEFT_WEIGHTS_FILE], name: b.name, labels: b.labels,
      method: b.method, taskId: b.task_id, alias: b.alias, fallbackLabels: task?.labels,
    });
    const imported = await store.getAdapter(result.adapter.id);
    const attached = task && imported.parameters.prototypes === undefined ? await attachAdapter(ctx.runtime, imported.id, task.id) : null;
    const alias = attached && b.alias !== undefined ? await store.setAlias(attached.adapter.name, b.alias, attached.adapter.version) : result.alias;
    res.status(result.created || attached?.created ? 201 : 200).json({
      adapter: formatAdapter(attached?.adapter ?? result.adapter), created: result.created, alias: alias ? formatAlias(alias) : null,
      attached: attached ? { from: result.adapter.id, support_accuracy: attached.supportAccuracy } : null,
    });
  });

  /** Computes a head for an adapter from a task's support set: a new version that predicts on the task's labels. */
  r.post('/v1/adapters/:id/attach', validate({ params: IdParams, body: AttachBody }), async (_req, res) => {
    const b = parsed(res, 'body', AttachBody);
    const result = await attachAdapter(ctx.runtime, parsed(res, 'params', IdParams).id, b.task_id, { tau: b.tau });
    res.status(result.created ? 201 : 200).json({ adapter: formatAdapter(result.adapter), created: result.created, support_accuracy: result.supportAccuracy });
  });

  r.get('/v1/adapters/:id', validate({ params: IdParams }), async (_req, res) => {
    const adapter = await store.getAdapter(parsed(res, 'params', IdParams).id);
    res.json(formatAdapterDetail(adapter, await store.listAliases(adapter.name)));
  });

  r.get('/v1/adapters/:id/lineage', validate({ params: IdParams }), async (_req, res) => {
    res.json(formatLineage(await store.getLineage(parsed(res, 'params', IdParams).id)));
  });

  r.get('/v1/adapters/:id/peft', validate({ params: IdParams }), async (_req, res) => {
    const files = await exportAdapter(store, parsed(res, 'params', IdParams).id);
    res.json({
      [PEFT_CONFIG_FILE]: JSON.parse(new TextDecoder().decode(files[PEFT_CONFIG_FILE])),
      [PEFT_WEIGHTS_FILE]: Buffer.from(files[PEFT_WEIGHTS_FILE]).toString('base64'),
    });
  });

  r.get('/v1/adapters/:id/peft/:file', validate({ params: PeftFileParams }), async (_req, res) => {
    const { id, file } = parsed(res, 'params', PeftFileParams);
    if (file !== PEFT_CONFIG_FILE && file !== PEFT_WEIGHTS_FILE) {
      throw new HttpError(HTTP_ERROR_CODES.routeNotFound, `file: expected ${PEFT_CONFIG_FILE} or ${PEFT_WEIGHTS_FILE}, got '${file}'`);
    }
    const files = await exportAdapter(store, id);
    res.type(file === PEFT_CONFIG_FILE ? 'application/json' : 'application/octet-stream')
      .set('Content-Disposition', `attachment; filename="${file}"`)
      .send(Buffer.from(files[file]));
  });

  r.get('/v1/adapters/:name/aliases', validate({ params: NameParams }), async (_req, res) => {
    res.json({ items: (await store.listAliases(parsed(res, 'params', NameParams).name)).map(formatAlias) });
  });

  r.put('/v1/adapters/:name/aliases/:alias', validate({ params: AliasParams, body: AliasBody }), async (_req, res) => {
    const { name, alias } = parsed(res, 'params', AliasParams);
    res.json(formatAlias(await store.setAlias(name, alias, parsed(res, 'body', AliasBody).version)));
  });

  r.delete('/v1/adapters/:name/aliases/:alias', validate({ params: AliasParams }), async (_req, res) => {
    const { name, alias } = parsed(res, 'params', AliasParams);
    await store.deleteAlias(name, alias);
    res.status(204).end();
  });

  return r;
}
