import JSON5 from 'json5';
import { InvalidRequestError } from './errors.js';

/**
 * A request body as TF Serving reads it: JSON, plus the `NaN`, `Infinity`
 * and `-Infinity` tokens its REST API allows for floats. Plain JSON takes
 * the fast path (JSON.parse); only a body JSON.parse refuses is read again
 * with JSON5, which knows those tokens (and is laxer in other ways too).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new InvalidRequestError('body', 'a JSON object', 'an empty body');
  try {
    return JSON.parse(text);
  } catch (strict) {
    try {
      return JSON5.parse(text);
    } catch {
      throw new InvalidRequestError('body', 'JSON (NaN and Infinity allowed)', `a parse error: ${(strict as Error).message}`);
    }
  }
}
