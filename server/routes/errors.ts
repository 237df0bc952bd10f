/**
 * The documented error responses, shared by the route modules: each status with its meaning
 * and the one error body schema `{ error: { code, message } }`.
 */
import { ErrorBody } from '../responses.ts';
import type { ResponseSpec } from '../route.ts';

const error = (status: number, description: string): Record<number, ResponseSpec> => ({ [status]: { description, schema: ErrorBody } });

export const E400 = error(400, 'invalid input; the message names the field');
export const E404 = (description: string) => error(404, description);
export const E409 = (description: string) => error(409, description);
