/**
 * Running a comparison as a job (`"job": true`: 202 + the job, watched with its phase k of n =
 * method k of n); a server that answers at once (200) is shown the same way.
 */
import { enc, post } from './api.ts';
import { watchJob } from './job-watch.ts';
import type { CompareResult, Job } from './types.ts';

export interface CompareBody { methods: string[]; seed?: number; steps?: number }
export type OnProgress = (p: { value: number | null; label: string }) => void;

export async function runCompare(task: string, body: CompareBody, onProgress: OnProgress): Promise<CompareResult> {
  onProgress({ value: null, label: `comparing ${body.methods.length} methods` });
  const reply = await post<CompareResult | { job: Job }>(`v1/tasks/${enc(task)}/compare`, { ...body, job: true });
  if (!('job' in reply)) return reply;
  const job = await watchJob(reply.job.id, (j) => onProgress({
    value: j.progress, label: j.phase ? `phase ${j.phase_index} of ${j.phase_count}: ${j.phase}` : j.status,
  }));
  if (job.status !== 'succeeded' || job.result === null) throw new Error(`compare job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ''}`);
  return job.result as unknown as CompareResult;
}
